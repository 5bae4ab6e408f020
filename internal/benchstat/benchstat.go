// Package benchstat holds the small statistics the end-to-end benchmarks report (latency
// quantiles in milliseconds). It is test support: nothing in the server imports it.
package benchstat

import "time"

// Quantile is the q-quantile (0 to 1) of sorted durations, by nearest rank; 0 for none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Millis is d in milliseconds, to the microsecond, as benchmarks report it.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
