package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's shell examples are one walkthrough, run here as a reader
// would run them: in order, in one bash session, after pasting the export
// lines of a new "promokit serve --demo".
//
// Which blocks run: every fenced block whose language is sh, bash or shell
// is part of the walkthrough, unless the line before its opening fence
// (blank lines aside) is an HTML comment starting "<!-- not run", which
// says why, for example
//
//	<!-- not run: commands for the repository, not the API -->
//
// Blocks of other languages (json, text...) never run. So a new shell
// example runs by default, and leaving one out is written down.
//
// What is checked, in shell_test.go: every curl must get a status below
// 400, or the status of the answer shown under it in a comment
// "# → STATUS ..."; where such a comment shows an answer, the output must
// hold it (answer_test.go says how "…" is read); and the script must run
// to its end under "set -eEuo pipefail".

// readmeFile is the README, from this package's directory.
const readmeFile = "../../README.md"

// fence opens or closes a fenced code block; its group 1 is the language.
var fence = regexp.MustCompile("^```\\s*([A-Za-z]*)")

// notRun marks the block after it as not part of the walkthrough.
var notRun = regexp.MustCompile(`^<!--\s*not run\b.*-->\s*$`)

// readmeWalkthrough returns the README's walkthrough: the lines of its
// shell blocks that run, in order.
func readmeWalkthrough(tb testing.TB, path string) *shellRun {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	r := &shellRun{source: "README.md"}
	lines := strings.Split(string(b), "\n")
	block := 0
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		open := i
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		}
		if i == len(lines) {
			tb.Fatalf("README.md:%d: a code block is never closed", open+1)
		}
		switch strings.ToLower(m[1]) {
		case "sh", "bash", "shell":
		default:
			continue
		}
		prev := open - 1
		for prev >= 0 && strings.TrimSpace(lines[prev]) == "" {
			prev--
		}
		if prev >= 0 && notRun.MatchString(lines[prev]) {
			continue
		}
		block++
		r.addBlock(tb, block, open+2, lines[open+1:i])
	}
	if block == 0 || len(r.answers) == 0 {
		tb.Fatalf("README.md has %d shell blocks to run and %d answers shown: the walkthrough is gone", block, len(r.answers))
	}
	return r
}

// TestREADME runs the README's walkthrough on a new demo marketplace on
// each database: "promokit serve --demo", its export lines, then every
// shell block of the README that is not marked "not run", in one bash
// session, checking the status of every call and each answer shown.
func TestREADME(t *testing.T) {
	t.Parallel()
	requireShellTools(t)
	walk := readmeWalkthrough(t, readmeFile)
	for _, db := range testDBs() {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			m := MustRunMain(t, "serve", "--demo", "--database-url", db.fresh(t))
			calls := walk.run(t, exportLines(m.stdout.String()))
			t.Logf("%d calls, %d answers shown", len(calls), len(walk.answers))
		})
	}
}
