package auth_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules/auth"
)

// TestPasswordHashingMemoryBounded sends 200 password-checking requests at once (wrong
// passwords at login, for a known and an unknown email, and at account deletion) with the rate
// limits off, so that only the hashing budget stands between them and memory. Each argon2id hash
// here takes 8 MiB, so 200 at once would take 1.6 GiB; the budget lets two run at once (16 MiB).
// The test process's peak resident memory (VmHWM, reset before the burst) must grow by less than
// 400 MiB. Measured under -race: about 225 MiB with the budget (of which about 145 MiB is 200
// connections under the race detector, even with hashes of 64 KiB), about 1.8 GiB without it
// (950 MiB without -race).
func TestPasswordHashingMemoryBounded(t *testing.T) {
	if os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) != nil {
		t.Skip("needs Linux's /proc/self/clear_refs to reset the peak resident memory")
	}
	const (
		perHash  = 8 << 20
		budget   = 2 * perHash
		requests = 200
		bound    = 400 << 20
	)
	env := apptest.Start(t, func(c *app.Config) {
		c.PasswordHash = auth.HashParams{Memory: perHash >> 10, Time: 1, Threads: 1}
		c.PasswordHashMemory = budget
		c.AuthRateLimit, c.PasswordRateLimit = 0, 0
	})
	u := env.Signup("Mem")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: requests}}
	t.Cleanup(client.CloseIdleConnections)
	send := func(method, path, token string, body any) (int, string) {
		buf, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, env.URL+path, bytes.NewReader(buf))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b struct{ Error struct{ Code string } }
		_ = json.NewDecoder(resp.Body).Decode(&b)
		return resp.StatusCode, b.Error.Code
	}

	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	base := procStatus(t, "VmRSS")
	start := make(chan struct{})
	var wg sync.WaitGroup
	type result struct {
		status int
		code   string
	}
	results := make([]result, requests)
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var r result
			switch i % 3 {
			case 0:
				r.status, r.code = send("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "wrong " + strconv.Itoa(i)})
			case 1:
				r.status, r.code = send("POST", "/api/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrong " + strconv.Itoa(i)})
			default:
				r.status, r.code = send("DELETE", "/api/auth/me", u.Token, map[string]string{"password": "wrong " + strconv.Itoa(i)})
			}
			results[i] = r
		}()
	}
	close(start)
	wg.Wait()
	peak := procStatus(t, "VmHWM")
	for i, r := range results {
		if r.status != http.StatusUnauthorized || r.code != "unauthorized" {
			t.Fatalf("request %d: %d %q, want 401 unauthorized", i, r.status, r.code)
		}
	}
	t.Logf("peak resident memory grew by %d MiB during %d concurrent password checks", (peak-base)>>20, requests)
	if peak-base > bound {
		t.Fatalf("peak resident memory grew by %d MiB, over the %d MiB bound", (peak-base)>>20, bound>>20)
	}
}

// procStatus reads a memory field of /proc/self/status, in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
