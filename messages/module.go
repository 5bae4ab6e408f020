package messages

import (
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// Handler serves the package's routes.
type Handler struct{}

// New wires the package: its service on db, writing through the event log, asking r for access.
func New(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver) *Handler { return &Handler{} }

// Mount registers the routes.
func (h *Handler) Mount(rt modules.Routes) {}
