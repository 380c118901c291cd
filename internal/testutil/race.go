//go:build race

package testutil

// raceEnabled reports that this test binary runs with the race detector, so
// the binaries it builds get it too.
const raceEnabled = true
