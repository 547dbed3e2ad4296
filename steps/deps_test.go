package steps_test

import (
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stepsPkg is the wizard's package, which no package under it may import.
const stepsPkg = "github.com/sesame-tool/sesame/steps"

// TestDepsLeavesNeverImportSteps enforces the dependency rule: every package
// under steps/ (the leaves such as ses, the simulator awssim, the fakes in
// stepstest and the helpers in internal/) knows one thing and never depends
// on package steps, directly or through another package. The packages are
// found by walking the tree, so a new leaf is covered the day it is added.
//
// What is checked: a package's own code and everything it imports
// (go list's Deps), and the imports of its in-package tests, which are
// compiled into the package. External test packages (package x_test, such
// as stepstest's check that its fakes satisfy the steps interfaces) are
// consumers of both and may import steps.
func TestDepsLeavesNeverImportSteps(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to list dependencies: %v", err)
	}
	dirs := leafDirs(t)
	if len(dirs) == 0 || !slices.Contains(dirs, "./ses") {
		t.Fatalf("walking steps/ found %q: the walk is broken (./ses should be among them)", dirs)
	}
	args := append([]string{"list", "-e", "-f",
		`{{.ImportPath}}|{{join .Deps " "}}|{{join .TestImports " "}}|{{with .Error}}{{.}}{{end}}`}, dirs...)
	out, err := exec.Command(goTool, args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(dirs) {
		t.Fatalf("go list answered for %d packages, want %d (%q)", len(lines), len(dirs), dirs)
	}
	for _, line := range lines {
		f := strings.SplitN(line, "|", 4)
		if len(f) != 4 {
			t.Fatalf("go list line %q", line)
		}
		pkg, deps, testImports, listErr := f[0], strings.Fields(f[1]), strings.Fields(f[2]), f[3]
		if listErr != "" {
			t.Errorf("%s: %s", pkg, listErr)
		}
		if slices.Contains(deps, stepsPkg) {
			t.Errorf("%s depends on %s: a package under steps/ must not (move what it needs into a leaf)", pkg, stepsPkg)
		}
		if slices.Contains(testImports, stepsPkg) {
			t.Errorf("%s's in-package tests import %s: test the pair from package steps instead", pkg, stepsPkg)
		}
	}
}

// leafDirs returns, as ./-relative patterns, every directory under steps/
// that holds Go files, skipping steps/ itself and what the go tool ignores
// (testdata, and names starting with "." or "_").
func leafDirs(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || path == "." {
			return nil
		}
		if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return filepath.SkipDir
		}
		goFiles, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		if len(goFiles) > 0 {
			dirs = append(dirs, "./"+filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking steps/: %v", err)
	}
	return dirs
}
