/**
 * Ends every jest run with one plain line, `tests: N passed, N failed`, the form CI tooling reads
 * in any language (jest's own summary says "N passed, N total").
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed\n`,
    );
  }
}

module.exports = SummaryReporter;
