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

func (h *Handler) listDrives(c echo.Context) error {
	ctx := c.Request().Context()
	page, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.ListDrives(ctx, modules.UserID(ctx), page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *Handler) createDrive(c echo.Context) error {
	ctx := c.Request().Context()
	var in DriveInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	d, err := h.svc.CreateDrive(ctx, modules.UserID(ctx), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (h *Handler) getDrive(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	d, err := h.svc.GetDrive(ctx, modules.UserID(ctx), driveID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *Handler) updateDrive(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	var in DriveInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	d, err := h.svc.UpdateDrive(ctx, modules.UserID(ctx), driveID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (h *Handler) deleteDrive(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteDrive(ctx, modules.UserID(ctx), driveID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listMembers(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	page, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.ListMembers(ctx, modules.UserID(ctx), driveID, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *Handler) addMember(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	var in AddMemberInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	if in.Email != nil && (!h.emails.Allow("addr:"+c.RealIP()) || !h.emails.Allow("user:"+modules.UserID(ctx))) {
		return modules.ErrRateLimited
	}
	m, err := h.svc.AddMember(ctx, modules.UserID(ctx), driveID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, m)
}

func (h *Handler) changeRole(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	userID, err := modules.IDParam(c, "userId", ErrMemberNotFound)
	if err != nil {
		return err
	}
	var in RoleInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	m, err := h.svc.ChangeRole(ctx, modules.UserID(ctx), driveID, userID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (h *Handler) removeMember(c echo.Context) error {
	ctx := c.Request().Context()
	driveID, err := modules.IDParam(c, "driveId", ErrDriveNotFound)
	if err != nil {
		return err
	}
	userID, err := modules.IDParam(c, "userId", ErrMemberNotFound)
	if err != nil {
		return err
	}
	if err := h.svc.RemoveMember(ctx, modules.UserID(ctx), driveID, userID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listGrants(c echo.Context) error {
	ctx := c.Request().Context()
	pageID, err := modules.IDParam(c, "pageId", ErrPageNotFound)
	if err != nil {
		return err
	}
	page, err := modules.ParsePage(c)
	if err != nil {
		return err
	}
	list, err := h.svc.ListGrants(ctx, modules.UserID(ctx), pageID, page)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *Handler) putGrant(c echo.Context) error {
	ctx := c.Request().Context()
	pageID, err := modules.IDParam(c, "pageId", ErrPageNotFound)
	if err != nil {
		return err
	}
	userID, err := modules.IDParam(c, "userId", ErrUserNotFound)
	if err != nil {
		return err
	}
	var in GrantInput
	if err := modules.Bind(c, &in); err != nil {
		return err
	}
	g, created, err := h.svc.PutGrant(ctx, modules.UserID(ctx), pageID, userID, in)
	if err != nil {
		return err
	}
	if created {
		return c.JSON(http.StatusCreated, g)
	}
	return c.JSON(http.StatusOK, g)
}

func (h *Handler) deleteGrant(c echo.Context) error {
	ctx := c.Request().Context()
	pageID, err := modules.IDParam(c, "pageId", ErrPageNotFound)
	if err != nil {
		return err
	}
	userID, err := modules.IDParam(c, "userId", ErrGrantNotFound)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteGrant(ctx, modules.UserID(ctx), pageID, userID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
