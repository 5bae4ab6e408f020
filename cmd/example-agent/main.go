// Command example-agent is an agent for pagespace that needs no model: in the channels it can
// see, it answers every message that names it ("@Helper"), word by word as a streamed message,
// after a pretend tool step its viewers watch. Create an agent and its key in a drive (its
// agents view, or docs/agents.md), then:
//
//	go run ./cmd/example-agent -server http://localhost:8080 -key psk_...
//
// Flags fall back on environment variables: PAGESPACE_SERVER, PAGESPACE_KEY, PAGESPACE_CHANNELS
// (channel ids, comma-separated: answer there only) and PAGESPACE_DELAY (between words). It runs
// until interrupted, reconnecting when the connection drops. The code is in package agent.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pagespace/pagespace/cmd/example-agent/agent"
)

func main() {
	server := flag.String("server", env("PAGESPACE_SERVER", "http://localhost:8080"), "the server's URL (PAGESPACE_SERVER)")
	key := flag.String("key", os.Getenv("PAGESPACE_KEY"), "the agent's API key, psk_... (PAGESPACE_KEY)")
	channels := flag.String("channels", os.Getenv("PAGESPACE_CHANNELS"), "ids of the channels to answer in, comma-separated; default: all it can see (PAGESPACE_CHANNELS)")
	delay := flag.Duration("delay", 150*time.Millisecond, "the wait between two words (PAGESPACE_DELAY)")
	if d, err := time.ParseDuration(os.Getenv("PAGESPACE_DELAY")); err == nil {
		*delay = d
	}
	flag.Parse()
	if *key == "" {
		fmt.Fprintln(os.Stderr, "example-agent: give the agent's key with -key or PAGESPACE_KEY (docs/agents.md says how to create one)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := agent.Run(ctx, agent.Config{
		Server:   *server,
		Key:      *key,
		Channels: split(*channels),
		Delay:    *delay,
		Log:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "example-agent:", err)
		os.Exit(1)
	}
}

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// split is the non-empty, comma-separated items of s.
func split(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
