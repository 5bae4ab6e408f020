// Command pagespace serves a realtime collaboration workspace: REST API, web UI and a
// Socket.IO-compatible endpoint, on embedded SQLite by default or PostgreSQL.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pagespace/pagespace/app"
)

func main() {
	cfg, cmd, err := app.Load(os.Args[1:], os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pagespace:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case app.CmdHelp:
		app.Usage(os.Stdout)
	case app.CmdMigrate:
		applied, err := app.Migrate(ctx, cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, "pagespace: migrate:", err)
			os.Exit(1)
		}
		fmt.Printf("migrations applied: %v\n", applied)
	default:
		a, err := app.New(cfg)
		if err == nil {
			err = a.Run(ctx)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pagespace:", err)
			os.Exit(1)
		}
	}
}
