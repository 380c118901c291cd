package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// Files of a log directory besides its segments.
const (
	startOffsetFile   = "log-start-offset"
	recoveryPointFile = "recovery-point"
	epochFile         = "leader-epoch-checkpoint"
	cleanMarkerFile   = ".clean-shutdown"
)

// checkpointVersion is the first line of every checkpoint file, as in
// Kafka's checkpoint files.
const checkpointVersion = 0

// checkpointLines encodes the version line followed by lines.
func checkpointLines(lines ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n", checkpointVersion)
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// readCheckpoint returns the lines after the version line; found is false if
// the file does not exist.
func readCheckpoint(fsys FS, dir, name string) (lines []string, found bool, err error) {
	data, err := ReadFile(fsys, filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) == 0 || strings.TrimSpace(all[0]) != strconv.Itoa(checkpointVersion) {
		return nil, true, fmt.Errorf("storage: %s: unknown version line %q", name, all[0])
	}
	return all[1:], true, nil
}

func writeOffsetFile(fsys FS, dir, name string, off int64) error {
	return WriteFileAtomic(fsys, dir, name, offsetFileData(off))
}

func offsetFileData(off int64) []byte { return checkpointLines(strconv.FormatInt(off, 10)) }

// readOffsetFile reads a single-offset checkpoint; found is false if absent.
func readOffsetFile(fsys FS, dir, name string) (off int64, found bool, err error) {
	lines, found, err := readCheckpoint(fsys, dir, name)
	if err != nil || !found {
		return 0, found, err
	}
	if len(lines) != 1 {
		return 0, true, fmt.Errorf("storage: %s: %d value lines", name, len(lines))
	}
	off, err = strconv.ParseInt(strings.TrimSpace(lines[0]), 10, 64)
	if err != nil || off < 0 {
		return 0, true, fmt.Errorf("storage: %s: bad offset %q", name, lines[0])
	}
	return off, true, nil
}
