/** Jest runs the TypeScript tests through ts-jest; `npm run typecheck` does the type checking. */
module.exports = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/tests/**/*.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  // Each stack run loads the Pulumi SDK and providers afresh; give slow machines room.
  testTimeout: 120000,
  // The Node that scripts/node-run.js fetches lives there: nothing for jest to index.
  modulePathIgnorePatterns: ["<rootDir>/.tools/"],
  reporters: ["default", "<rootDir>/tests/support/summary-reporter.js"],
};
