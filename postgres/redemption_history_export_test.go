package postgres

// CodeRedemptionsSQL is the query of a code's usage history, for its plan
// test.
const CodeRedemptionsSQL = codeRedemptionsSQL
