package app

import (
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
)

// startPprof serves net/http/pprof on cfg.PprofAddr, a listener of its own that is off unless
// PPROF_ADDR is set: profiles expose internals and cost CPU, so they never share the public port.
func (a *App) startPprof() error {
	if a.cfg.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.PprofAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: a.cfg.ReadHeaderTimeout, IdleTimeout: a.cfg.IdleTimeout}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("pprof", "err", err.Error())
		}
	}()
	go func() {
		<-a.stop
		_ = srv.Close()
	}()
	a.log.Warn("pprof listening", "addr", ln.Addr().String())
	return nil
}
