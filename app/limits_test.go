package app_test

import (
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
)

func TestLoadLimits(t *testing.T) {
	cfg := app.DefaultConfig()
	if cfg.PasswordRateLimit != 10 || cfg.PasswordHashMemory != 64<<20 || cfg.MemberEmailRateLimit != 30 || cfg.AuthRateLimit != 30 {
		t.Fatalf("defaults %+v", cfg)
	}
	env := map[string]string{"PASSWORD_RATE_LIMIT": "5", "PASSWORD_HASH_MEMORY": "33554432", "MEMBER_EMAIL_RATE_LIMIT": "0"}
	cfg, _, err := app.Load([]string{"--password-rate-limit=7"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PasswordRateLimit != 7 || cfg.PasswordHashMemory != 32<<20 || cfg.MemberEmailRateLimit != 0 {
		t.Fatalf("config %+v", cfg)
	}
	for _, bad := range []map[string]string{
		{"PASSWORD_RATE_LIMIT": "-1"}, {"PASSWORD_HASH_MEMORY": "1000"}, {"PASSWORD_HASH_MEMORY": "lots"}, {"MEMBER_EMAIL_RATE_LIMIT": "x"},
	} {
		if _, _, err := app.Load(nil, func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestLoadStreamLimits(t *testing.T) {
	env := map[string]string{"STREAM_IDLE_TIMEOUT": "90s", "STREAM_CHUNK_RATE": "20", "STREAM_MAX_BYTES": "1000"}
	cfg, _, err := app.Load([]string{"--stream-max-bytes=2000"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Stream; s.IdleTimeout != 90*time.Second || s.ChunkRate != 20 || s.ChunkBurst != 41 || s.MaxBytes != 2000 {
		t.Fatalf("stream config %+v", s)
	}
	for _, bad := range []map[string]string{
		{"STREAM_IDLE_TIMEOUT": "0s"}, {"STREAM_CHUNK_RATE": "0"}, {"STREAM_CHUNK_RATE": "fast"}, {"STREAM_MAX_BYTES": "0"},
	} {
		if _, _, err := app.Load(nil, func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
