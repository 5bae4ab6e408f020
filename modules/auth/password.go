package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pagespace/pagespace/modules"
	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"
)

// HashParams are the argon2id cost parameters.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultHashParams follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane).
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// DefaultHashMemory is the default memory budget of the password hashes running at once: three
// at DefaultHashParams.
const DefaultHashMemory = 64 << 20

// ErrBusy answers a password check or signup that could not get its share of the hashing memory
// budget before its request ended.
var ErrBusy = modules.E(modules.KindUnavailable, "too many password checks at once; try again shortly")

// hasher runs argon2id within a memory budget. Each hash allocates its whole memory cost up
// front, so a burst of password checks (a wrong password costs as much as a right one) could
// take any amount of memory; here each hash first takes its memory cost from a weighted
// semaphore of the budget, waiting with the caller's context. Safe for concurrent use.
type hasher struct {
	params HashParams
	budget int64 // KiB
	sem    *semaphore.Weighted
}

func newHasher(p HashParams, budgetBytes int64) *hasher {
	budget := max(budgetBytes>>10, int64(p.Memory), 1)
	return &hasher{params: p, budget: budget, sem: semaphore.NewWeighted(budget)}
}

// run calls fn holding memKiB of the budget (at most the whole budget, so that a stored hash
// dearer than the budget still runs, alone). It returns ErrBusy if ctx ends first.
func (h *hasher) run(ctx context.Context, memKiB uint32, fn func()) error {
	n := min(max(int64(memKiB), 1), h.budget)
	if err := h.sem.Acquire(ctx, n); err != nil {
		return ErrBusy
	}
	defer h.sem.Release(n)
	fn()
	return nil
}

// hash returns an encoded argon2id hash in the PHC string format.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.params
	var key []byte
	if err := h.run(ctx, p.Memory, func() { key = argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32) }); err != nil {
		return "", err
	}
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// check reports whether password matches encoded, in constant time. Its error is ErrBusy.
func (h *hasher) check(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, ok := parseHash(encoded)
	if !ok {
		return false, nil
	}
	var got []byte
	if err := h.run(ctx, p.Memory, func() { got = argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want))) }); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseHash reads an encoded argon2id hash.
func parseHash(encoded string) (p HashParams, salt, key []byte, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 {
		return p, nil, nil, false
	}
	return p, salt, key, true
}
