package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// build is one package's build, shared by every test in the test binary.
type build struct {
	once sync.Once
	bin  string
	err  error
}

var (
	// buildsMu guards builds and buildDir.
	buildsMu sync.Mutex
	builds   = map[string]*build{}
	buildDir string
)

// BuildBinary returns the path of an executable built from pkg, a package path
// relative to the module root ("./cmd/strait") or a full import path. The
// first call for a pkg builds it; later calls, from any test, return the same
// binary or fail with the same build error. TEST_<NAME>_BIN, NAME being the
// upper-cased last element of pkg, names a prebuilt binary to use instead.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	if bin, ok := prebuilt(pkg); ok {
		if err := checkExecutable(bin); err != nil {
			t.Fatalf("testutil: %s=%s: %v", binEnv(pkg), bin, err)
		}
		return bin
	}

	buildsMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &build{}
		builds[pkg] = b
	}
	buildsMu.Unlock()

	b.once.Do(func() { b.bin, b.err = goBuild(pkg) })
	if b.err != nil {
		t.Fatalf("testutil: building %s: %v", pkg, b.err)
	}
	return b.bin
}

// Main runs the tests of a package that uses BuildBinary and removes the
// binaries it built. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testutil.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	buildsMu.Lock()
	dir := buildDir
	buildsMu.Unlock()
	if dir != "" {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintf(os.Stderr, "testutil: removing built binaries: %v\n", err)
		}
	}
	os.Exit(code)
}

// binEnv is the environment variable that overrides the build of pkg.
func binEnv(pkg string) string {
	name := strings.ToUpper(path.Base(strings.TrimSuffix(pkg, "/")))
	name = strings.Map(func(r rune) rune {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, name)
	return "TEST_" + name + "_BIN"
}

func prebuilt(pkg string) (string, bool) {
	bin := os.Getenv(binEnv(pkg))
	return bin, bin != ""
}

func checkExecutable(bin string) error {
	fi, err := os.Stat(bin)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// goBuild builds pkg into the shared build directory, with the race detector
// when this test binary has it.
func goBuild(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := sharedBuildDir()
	if err != nil {
		return "", err
	}
	// Two packages may share a last element; keep their binaries apart.
	out, err := os.MkdirTemp(dir, "pkg-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(out, path.Base(strings.TrimSuffix(pkg, "/")))

	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, output)
	}
	return bin, nil
}

func sharedBuildDir() (string, error) {
	buildsMu.Lock()
	defer buildsMu.Unlock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "strait-testbin-")
		if err != nil {
			return "", err
		}
		buildDir = dir
	}
	return buildDir, nil
}

// moduleRoot is the nearest directory at or above the working directory (the
// test's package directory) that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}
