package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file runs shell commands written for people (the README's
// walkthrough, the commands --demo prints) in one bash process, and checks
// the answer of every curl they make.
//
// The script runs under "set -eEuo pipefail". A curl shell function,
// defined by the test and never by the text under test, stands in for the
// curl command: it runs the real one, passes its output through, and
// records each call's status, output and arguments. A shown answer, a
// comment "# → [STATUS] [ANSWER]" on the lines after a command, is
// replaced in the script by a call to __pk_expect, so that the test knows
// which call it describes: the last curl before it. Every call must get
// the status its answer shows, or one below 400 when it shows none.

// shellLine is one line of a script under test and where it comes from.
type shellLine struct {
	text string
	// src is the line's number in its source file, 0 for the lines the
	// test adds (the exports).
	src int
	// block is the number of the line's block in the source, from 1.
	block int
	// expect is the index of the answer that replaces this line, or -1.
	expect int
}

// shellRun is a script to run: its lines and the answers they show.
type shellRun struct {
	source  string // the file the lines come from, for messages
	lines   []shellLine
	answers []answer
}

// shellCall is one curl call the script made.
type shellCall struct {
	line   int // the script's line, from 1
	rc     int // curl's exit status
	status int // the HTTP status, 0 when there was none
	out    string
	args   string
	stderr string
	// checked is set when a shown answer described the call, and err to
	// why the call does not match it.
	checked bool
	err     error
}

// shellPrelude defines the curl wrapper, the answer marker and the trap
// that records where the script failed. PK_LOG and PK_DIR come from the
// environment. The status is written last to curl's stderr (-w with
// %{stderr}), after any message of curl's own.
const shellPrelude = `set -eEuo pipefail
curl() {
	local rec rc=0
	rec=$(mktemp "$PK_DIR/call.XXXXXX")
	printf '%q ' "$@" >"$rec.args"
	command curl "$@" -w '%{stderr}%{http_code}' >"$rec.out" 2>"$rec.err" || rc=$?
	cat "$rec.out"
	printf 'call %s %s %s\n' "${BASH_LINENO[0]}" "$rc" "$rec" >>"$PK_LOG"
	return "$rc"
}
__pk_expect() { printf 'expect %s\n' "$1" >>"$PK_LOG"; }
trap 'printf "error %s %s\n" "$LINENO" "$?" >>"$PK_LOG"' ERR
`

// requireShellTools fails the test when a tool the commands need is
// missing: bash, curl, jq and GNU date (for "date -d"). CI installs them
// (.ci/run); a missing tool is a failure, never a skip, so that the text
// under test cannot drift unseen.
func requireShellTools(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"bash", "curl", "jq", "date"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("the shell walkthrough needs bash, curl, jq and GNU date: %v", err)
		}
	}
	if out, err := exec.Command("date", "-u", "-d", "+1 day", "+%F").CombinedOutput(); err != nil {
		tb.Fatalf("the shell walkthrough needs GNU date (date -d): %v: %s", err, out)
	}
}

// exportLines returns the lines of out that export a shell variable, as
// the demo prints them for a person to paste.
func exportLines(out string) []string {
	var lines []string
	for l := range strings.Lines(out) {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "export ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// run runs the script after exports in one bash process, in a new
// directory, and reports every call whose answer is not the one expected,
// every shown answer that no call reached, and where the script stopped
// if it failed. It returns the calls.
func (r *shellRun) run(t *testing.T, exports []string) []*shellCall {
	t.Helper()
	dir := t.TempDir()
	logPath, calls, work := filepath.Join(dir, "calls.log"), filepath.Join(dir, "calls"), filepath.Join(dir, "work")
	for _, d := range []string{calls, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	script, lineAt := r.script(exports)
	scriptPath := filepath.Join(dir, "walkthrough.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", scriptPath)
	cmd.Dir = work
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TMPDIR=" + dir, "LC_ALL=C.UTF-8",
		"PK_LOG=" + logPath, "PK_DIR=" + calls,
	}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	log, err := os.ReadFile(logPath)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}

	made, stopped, done := r.check(t, lineAt, string(log))
	if runErr != nil || !done {
		if stopped == "" {
			stopped = fmt.Sprintf("the script did not finish: %v", runErr)
		}
		t.Error(stopped)
	}
	if t.Failed() {
		// Bash names the script's lines: name the source's instead.
		errs := scriptLine.ReplaceAllStringFunc(tail(stderr.String(), 2000), func(m string) string {
			n, _ := strconv.Atoi(scriptLine.FindStringSubmatch(m)[1])
			if l, ok := lineAt(n); ok && l.src != 0 {
				return fmt.Sprintf("%s:%d:", r.source, l.src)
			}
			return m
		})
		t.Logf("%d calls; the script's stderr:\n%s\nits stdout:\n%s", len(made), errs, tail(stdout.String(), 2000))
	}
	return made
}

// script returns the script to run: the prelude, the exports, then the
// lines of r with a marker in place of each answer shown. lineAt returns
// the line of r or the export that is the script's line n (from 1).
func (r *shellRun) script(exports []string) (script string, lineAt func(n int) (shellLine, bool)) {
	var b strings.Builder
	b.WriteString(shellPrelude)
	preludeLines := strings.Count(shellPrelude, "\n")
	all := make([]shellLine, 0, len(exports)+len(r.lines))
	for _, e := range exports {
		all = append(all, shellLine{text: e, expect: -1})
	}
	all = append(all, r.lines...)
	for _, l := range all {
		if l.expect >= 0 {
			fmt.Fprintf(&b, "__pk_expect %d\n", l.expect)
			continue
		}
		b.WriteString(l.text + "\n")
	}
	b.WriteString("printf 'done\\n' >>\"$PK_LOG\"\n")
	return b.String(), func(n int) (shellLine, bool) {
		i := n - preludeLines - 1
		if i < 0 || i >= len(all) {
			return shellLine{}, false
		}
		return all[i], true
	}
}

// check reads the log the script wrote, reports the calls whose status or
// output is not what the source shows (the first five) and the answers
// shown that no call reached, and returns the calls, where the script
// stopped if it failed, and whether it ran to its end.
func (r *shellRun) check(t *testing.T, lineAt func(int) (shellLine, bool), log string) (made []*shellCall, stopped string, done bool) {
	t.Helper()
	var (
		last     *shellCall // the latest call no answer has described yet
		reached  = map[int]bool{}
		failures int
	)
	fail := func(format string, args ...any) {
		failures++
		if failures <= 5 {
			t.Errorf(format, args...)
		}
	}
	for l := range strings.Lines(log) {
		f := strings.Fields(l)
		switch {
		case len(f) == 4 && f[0] == "call":
			last = readCall(t, f)
			made = append(made, last)
		case len(f) == 2 && f[0] == "expect":
			i, _ := strconv.Atoi(f[1])
			a := r.answers[i]
			reached[i] = true
			switch {
			case last == nil:
				fail("%s:%d shows an answer, but no curl ran since the previous one", r.source, a.line)
			case !r.describes(lineAt, last.line, a):
				fail("%s:%d shows an answer, but the last curl (%s) is not the command right above it", r.source, a.line, r.where(lineAt, last.line))
			default:
				last.checked = true
				last.err = a.check(last.status, last.out)
			}
			last = nil
		case len(f) == 3 && f[0] == "error":
			// The last error is where the script stopped: with errtrace,
			// the command substitutions that failed before it left theirs.
			n, _ := strconv.Atoi(f[1])
			stopped = fmt.Sprintf("the script stopped with status %s at %s", f[2], r.where(lineAt, n))
		case len(f) == 1 && f[0] == "done":
			done = true
		}
	}
	for _, c := range made {
		switch {
		case c.checked && c.err != nil:
			fail("%s\n%s", r.report(lineAt, c), c.err)
		case !c.checked && (c.rc != 0 || c.status == 0 || c.status >= 400):
			fail("%s\n  want: a status below 400 (no answer is shown under the command)", r.report(lineAt, c))
		}
	}
	if failures > 5 {
		t.Errorf("and %d more calls did not get the answer expected", failures-5)
	}
	var unreached []string
	for i, a := range r.answers {
		if !reached[i] {
			unreached = append(unreached, strconv.Itoa(a.line))
		}
	}
	if len(unreached) > 0 {
		t.Errorf("%d answers shown were never reached, at %s lines %s", len(unreached), r.source, strings.Join(unreached, ", "))
	}
	return made, stopped, done
}

// readCall reads the record of one curl call from a "call LINE RC PATH"
// log line.
func readCall(tb testing.TB, f []string) *shellCall {
	tb.Helper()
	c := &shellCall{}
	c.line, _ = strconv.Atoi(f[1])
	c.rc, _ = strconv.Atoi(f[2])
	read := func(ext string) string {
		b, err := os.ReadFile(f[3] + ext)
		if err != nil {
			tb.Fatal(err)
		}
		return string(b)
	}
	c.out, c.args = read(".out"), read(".args")
	errOut := read(".err")
	// The status is the last three characters -w wrote to stderr.
	if n := len(errOut); n >= 3 {
		c.status, _ = strconv.Atoi(errOut[n-3:])
		c.stderr = errOut[:n-3]
	}
	return c
}

// describes reports whether the answer a may describe the call made from
// script line n: the call's line and every line down to the answer are
// lines of one command, with no blank or comment line between.
func (r *shellRun) describes(lineAt func(int) (shellLine, bool), n int, a answer) bool {
	l, ok := lineAt(n)
	if !ok || l.src == 0 || l.src >= a.line {
		return false
	}
	for _, x := range r.lines {
		if x.src >= l.src && x.src < a.line && !isCode(x.text) {
			return false
		}
	}
	return true
}

// isCode reports whether a line is neither blank nor a comment.
func isCode(line string) bool {
	t := strings.TrimSpace(line)
	return t != "" && !strings.HasPrefix(t, "#")
}

// where names script line n by its place in the source.
func (r *shellRun) where(lineAt func(int) (shellLine, bool), n int) string {
	l, ok := lineAt(n)
	switch {
	case !ok:
		return fmt.Sprintf("line %d of the test's own prelude", n)
	case l.src == 0:
		return fmt.Sprintf("the exports (%q)", l.text)
	}
	return fmt.Sprintf("%s:%d (block %d): %s", r.source, l.src, l.block, strings.TrimSpace(l.text))
}

// report describes a call for a failure: the command around its line as
// the source shows it, curl's arguments, and its answer.
func (r *shellRun) report(lineAt func(int) (shellLine, bool), c *shellCall) string {
	var b strings.Builder
	l, ok := lineAt(c.line)
	if ok && l.src != 0 {
		fmt.Fprintf(&b, "%s:%d, block %d:\n", r.source, l.src, l.block)
		for _, x := range r.command(l.src) {
			fmt.Fprintf(&b, "    %s\n", x.text)
		}
	} else {
		fmt.Fprintf(&b, "%s:\n", r.where(lineAt, c.line))
	}
	fmt.Fprintf(&b, "  ran: curl %s\n", head(c.args, 600))
	if c.rc != 0 {
		fmt.Fprintf(&b, "  curl failed with exit status %d: %s\n", c.rc, strings.TrimSpace(c.stderr))
	}
	fmt.Fprintf(&b, "  got: %d %s", c.status, tail(c.out, 2000))
	return b.String()
}

// command returns the source lines of the command around source line n:
// the lines of code next to it up to a blank or comment line.
func (r *shellRun) command(n int) []shellLine {
	at := -1
	for i, x := range r.lines {
		if x.src == n {
			at = i
		}
	}
	if at < 0 {
		return nil
	}
	lo, hi := at, at
	for lo > 0 && r.lines[lo-1].block == r.lines[at].block && isCode(r.lines[lo-1].text) {
		lo--
	}
	for hi+1 < len(r.lines) && r.lines[hi+1].block == r.lines[at].block && isCode(r.lines[hi+1].text) {
		hi++
	}
	return r.lines[lo : hi+1]
}

// head returns the start of s, at most n bytes.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// tail returns the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// answerPrefix starts a comment that shows the answer of the command
// above it; answerMore continues it on the next lines ("#" and at least
// two spaces).
var (
	answerPrefix = regexp.MustCompile(`^\s*# →`)
	answerMore   = regexp.MustCompile(`^\s*#\s\s`)
	trailing     = regexp.MustCompile(`\S.*\s# →`)
	// scriptLine is how bash names a line of the script in its messages.
	scriptLine = regexp.MustCompile(`\S*walkthrough\.sh: line (\d+):`)
)

// addBlock appends the lines of one block of source, whose first line is
// source line first, replacing each shown answer by a marker. It fails
// the test on an answer shown at the end of a line of code: answers go on
// their own lines, under the command.
func (r *shellRun) addBlock(tb testing.TB, block, first int, lines []string) {
	tb.Helper()
	for i := 0; i < len(lines); i++ {
		text := lines[i]
		switch {
		case answerPrefix.MatchString(text):
			// The marker takes the place of the answer's first line; the
			// lines that continue it stay comments.
			a := answer{line: first + i, text: strings.TrimSpace(strings.SplitN(text, "# →", 2)[1])}
			r.lines = append(r.lines, shellLine{text: text, src: first + i, block: block, expect: len(r.answers)})
			for i+1 < len(lines) && answerMore.MatchString(lines[i+1]) && !answerPrefix.MatchString(lines[i+1]) {
				i++
				r.lines = append(r.lines, shellLine{text: lines[i], src: first + i, block: block, expect: -1})
				a.text += strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i]), "#"))
			}
			r.answers = append(r.answers, a)
			continue
		case trailing.MatchString(text) && isCode(text):
			tb.Fatalf("%s:%d shows an answer at the end of a command: put it on its own line below", r.source, first+i)
		}
		r.lines = append(r.lines, shellLine{text: text, src: first + i, block: block, expect: -1})
	}
}
