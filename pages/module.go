package pages

import (
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// Handler serves the package's routes.
type Handler struct {
	svc *Service
}

// New wires the package: its service on db, writing through the event log, asking r for access,
// with the live editing settings doc.
func New(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver, doc DocConfig) *Handler {
	return &Handler{svc: NewService(db, log, r, doc)}
}

var _ modules.Module = (*Handler)(nil)

// Service is the service behind the routes.
func (h *Handler) Service() *Service { return h.svc }

// Mount registers the routes.
func (h *Handler) Mount(rt modules.Routes) {
	g := rt.Authed
	g.GET("/drives/:driveId/pages", h.tree)
	g.POST("/drives/:driveId/pages", h.create)
	g.GET("/drives/:driveId/trash", h.trash)
	g.GET("/pages/:pageId", h.get)
	g.PATCH("/pages/:pageId", h.update)
	g.DELETE("/pages/:pageId", h.delete)
	g.POST("/pages/:pageId/move", h.move)
	g.POST("/pages/:pageId/restore", h.restore)
	g.GET("/pages/:pageId/revisions", h.revisions)
	g.GET("/pages/:pageId/revisions/:revision", h.revision)
	g.POST("/pages/:pageId/revisions/:revision/restore", h.restoreRevision)
}
