package permissions

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// Handler serves drives, members and page grants over HTTP; the rules live in Service.
type Handler struct {
	svc    *Service
	emails *modules.Limiter
}

// New wires drives, members and page grants on db, writing through the event log. emails limits
// adding members by email, per client address and per acting user (nil: no limit): whether an
// email has an account shows in the answer (404 or 201), so lookups are limited as signup is,
// which shows the same thing (409).
func New(db *gorm.DB, log *eventlog.Log, r *Resolver, emails *modules.Limiter) *Handler {
	return &Handler{svc: NewService(db, log, r), emails: emails}
}

var _ modules.Module = (*Handler)(nil)

// Mount registers the routes.
func (h *Handler) Mount(rt modules.Routes) {
	g := rt.Authed
	g.GET("/drives", h.listDrives)
	g.POST("/drives", h.createDrive)
	g.GET("/drives/:driveId", h.getDrive)
	g.PATCH("/drives/:driveId", h.updateDrive)
	g.DELETE("/drives/:driveId", h.deleteDrive)
	g.GET("/drives/:driveId/members", h.listMembers)
	g.POST("/drives/:driveId/members", h.addMember)
	g.PATCH("/drives/:driveId/members/:userId", h.changeRole)
	g.DELETE("/drives/:driveId/members/:userId", h.removeMember)
	g.GET("/drives/:driveId/agents", h.listAgents)
	g.POST("/drives/:driveId/agents", h.createAgent)
	g.DELETE("/drives/:driveId/agents/:agentId", h.removeAgent)
	g.POST("/drives/:driveId/agents/:agentId/keys", h.createAgentKey)
	g.DELETE("/drives/:driveId/agents/:agentId/keys/:keyId", h.revokeAgentKey)
	g.GET("/pages/:pageId/permissions", h.listGrants)
	g.PUT("/pages/:pageId/permissions/:userId", h.putGrant)
	g.DELETE("/pages/:pageId/permissions/:userId", h.deleteGrant)
}

// The path parameters of the routes.
var (
	driveParam   = modules.Param{Name: "driveId", NotFound: ErrDriveNotFound}
	memberParam  = modules.Param{Name: "userId", NotFound: ErrMemberNotFound}
	pageParam    = modules.Param{Name: "pageId", NotFound: ErrPageNotFound}
	granteeParam = modules.Param{Name: "userId", NotFound: ErrUserNotFound}
	grantParam   = modules.Param{Name: "userId", NotFound: ErrGrantNotFound}
	agentParam   = modules.Param{Name: "agentId", NotFound: ErrAgentNotFound}
	keyParam     = modules.Param{Name: "keyId", NotFound: ErrKeyNotFound}
)

func (h *Handler) listDrives(c echo.Context) error {
	page, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.ListDrives(c.Request().Context(), page)
	return modules.Reply(c, http.StatusOK, list, err)
}

func (h *Handler) createDrive(c echo.Context) error {
	var in DriveInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	d, err := h.svc.CreateDrive(c.Request().Context(), in)
	return modules.Reply(c, http.StatusCreated, d, err)
}

func (h *Handler) getDrive(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam)
	if err != nil {
		return err
	}
	d, err := h.svc.GetDrive(c.Request().Context(), ids[0])
	return modules.Reply(c, http.StatusOK, d, err)
}

func (h *Handler) updateDrive(c echo.Context) error {
	return modules.ServeWrite(c, http.StatusOK, driveParam, h.svc.UpdateDrive)
}

func (h *Handler) deleteDrive(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.DeleteDrive(c.Request().Context(), ids[0]))
}

func (h *Handler) listMembers(c echo.Context) error {
	return modules.ServeList(c, driveParam, h.svc.ListMembers)
}

func (h *Handler) addMember(c echo.Context) error {
	var in AddMemberInput
	ids, err := modules.Read(c, &in, driveParam)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if in.Email != nil && (!h.emails.Allow("addr:"+c.RealIP()) || !h.emails.Allow("user:"+modules.UserID(ctx))) {
		return modules.ErrRateLimited
	}
	m, err := h.svc.AddMember(ctx, ids[0], in)
	return modules.Reply(c, http.StatusCreated, m, err)
}

func (h *Handler) changeRole(c echo.Context) error {
	return modules.ServeItemWrite(c, http.StatusOK, driveParam, memberParam, h.svc.ChangeRole)
}

func (h *Handler) removeMember(c echo.Context) error {
	ids, err := modules.Read(c, nil, driveParam, memberParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.RemoveMember(c.Request().Context(), ids[0], ids[1]))
}

func (h *Handler) listGrants(c echo.Context) error {
	return modules.ServeList(c, pageParam, h.svc.ListGrants)
}

func (h *Handler) putGrant(c echo.Context) error {
	var in GrantInput
	ids, err := modules.Read(c, &in, pageParam, granteeParam)
	if err != nil {
		return err
	}
	g, created, err := h.svc.PutGrant(c.Request().Context(), ids[0], ids[1], in)
	if created {
		return modules.Reply(c, http.StatusCreated, g, err)
	}
	return modules.Reply(c, http.StatusOK, g, err)
}

func (h *Handler) deleteGrant(c echo.Context) error {
	ids, err := modules.Read(c, nil, pageParam, grantParam)
	if err != nil {
		return err
	}
	return modules.Done(c, h.svc.DeleteGrant(c.Request().Context(), ids[0], ids[1]))
}
