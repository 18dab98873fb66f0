/**
 * Ends every jest run with one plain line, `tests: N passed, N failed`, the form CI tooling reads
 * in any language (jest's own summary says "N passed, N total").
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    // stderr, where jest writes its own summary, so this line comes last.
    process.stderr.write(
      `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed\n`,
    );
  }
}

module.exports = SummaryReporter;
