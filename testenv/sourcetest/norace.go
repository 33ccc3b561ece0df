//go:build !race

package sourcetest

// raceEnabled tells whether this binary has the race detector.
const raceEnabled = false
