package benchstat_test

import (
	"testing"
	"time"

	"github.com/pagespace/pagespace/internal/benchstat"
)

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if p50, p99 := benchstat.Quantile(d, 0.5), benchstat.Quantile(d, 0.99); p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("p50 %v, p99 %v", p50, p99)
	}
	if benchstat.Quantile(nil, 0.5) != 0 || benchstat.Quantile(d[:1], 0.99) != time.Millisecond {
		t.Fatal("edge cases")
	}
	if benchstat.Millis(1500*time.Microsecond) != 1.5 {
		t.Fatal("millis")
	}
}
