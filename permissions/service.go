package permissions

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// maxDriveName is the longest drive name, in characters.
const maxDriveName = 100

// Service runs drives, members and page grants. Every write goes through the event log; every
// check that guards a write runs in the write's transaction. Its methods act for the caller in the
// context (modules.UserID). It is safe for concurrent use.
type Service struct {
	db      *gorm.DB
	log     *eventlog.Log
	r       *Resolver
	streams Streams // nil: no streamed messages to end
}

// NewService returns the service on db, writing through log and asking r for page access.
func NewService(db *gorm.DB, log *eventlog.Log, r *Resolver) *Service {
	return &Service{db: db, log: log, r: r}
}

// userRow is the slice of a user this package shows. The auth module owns the table.
type userRow struct {
	ID           string
	Email        string
	Name         string
	Kind         string
	AgentDriveID *string
}

// foreignAgent reports whether u is an agent of another drive than driveID: an agent is a member
// of its own drive only, and holds no grant elsewhere.
func (u userRow) foreignAgent(driveID string) bool {
	return u.Kind == KindAgent && (u.AgentDriveID == nil || *u.AgentDriveID != driveID)
}

func (userRow) TableName() string { return "users" }

// DriveInfo is a drive as one caller sees it. Role is nil when the caller is not a member but
// holds a page grant in the drive.
type DriveInfo struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	OwnerID   string       `json:"ownerId"`
	Role      *Role        `json:"role"`
	CreatedAt modules.Time `json:"createdAt"`
	UpdatedAt modules.Time `json:"updatedAt"`
}

func driveInfo(d Drive, role Role) DriveInfo {
	out := DriveInfo{ID: d.ID, Name: d.Name, OwnerID: d.OwnerID, CreatedAt: modules.Time(d.CreatedAt), UpdatedAt: modules.Time(d.UpdatedAt)}
	if role != NoRole {
		out.Role = &role
	}
	return out
}

func eventDrive(d Drive) DriveEventDrive {
	return DriveEventDrive{ID: d.ID, Name: d.Name, OwnerID: d.OwnerID, CreatedAt: modules.Time(d.CreatedAt), UpdatedAt: modules.Time(d.UpdatedAt)}
}

// MemberInfo is a drive member.
type MemberInfo struct {
	UserID   string       `json:"userId"`
	Name     string       `json:"name"`
	Email    string       `json:"email"`
	Role     Role         `json:"role"`
	JoinedAt modules.Time `json:"joinedAt"`
	Kind     string       `json:"kind"` // "user" or "agent"
}

// ListDrives returns the drives the caller sees (DriveView.SeesDrive), by id: those it is a member
// of or holds an active page grant in.
func (s *Service) ListDrives(ctx context.Context, page modules.PageRequest) (modules.List[DriveInfo], error) {
	userID := modules.UserID(ctx)
	var cur struct {
		ID string `json:"id"`
	}
	if page.Cursor != "" {
		if err := modules.DecodeCursor(page.Cursor, &cur); err != nil {
			return modules.List[DriveInfo]{}, err
		}
	}
	type row struct {
		Drive
		Role *Role
	}
	var rows []row
	err := s.db.WithContext(ctx).Raw(`SELECT d.id, d.name, d.owner_id, d.created_at, d.updated_at, m.role
		FROM drives d LEFT JOIN drive_members m ON m.drive_id = d.id AND m.user_id = ?
		WHERE d.id IN (SELECT drive_id FROM drive_members WHERE user_id = ?
			UNION SELECT g.drive_id FROM (`+granteesSQL+`) g WHERE g.user_id = ?)
		AND d.id > ? ORDER BY d.id LIMIT ?`,
		userID, userID, modules.Now(), userID, cur.ID, page.Limit+1).Scan(&rows).Error
	if err != nil {
		return modules.List[DriveInfo]{}, fmt.Errorf("permissions: list drives: %w", err)
	}
	return modules.NewList(rows, page.Limit, func(r row) DriveInfo {
		role := NoRole
		if r.Role != nil {
			role = *r.Role
		}
		return driveInfo(r.Drive, role)
	}, func(r row) any { return map[string]string{"id": r.ID} }), nil
}

// DriveInput is the body of POST /api/drives and PATCH /api/drives/{id}.
type DriveInput struct {
	Name modules.Optional[string] `json:"name"`
}

func driveName(v *modules.Validator, name modules.Optional[string]) string {
	v.Check(name.Set && !name.Null, "name", "is required")
	v.Text("name", name.Value, 1, maxDriveName, false)
	return strings.TrimSpace(name.Value)
}

// CreateDrive creates a drive owned by the caller, who becomes its OWNER member.
func (s *Service) CreateDrive(ctx context.Context, in DriveInput) (DriveInfo, error) {
	userID := modules.UserID(ctx)
	var v modules.Validator
	name := driveName(&v, in.Name)
	if err := v.Err(); err != nil {
		return DriveInfo{}, err
	}
	now := modules.Now()
	d := Drive{ID: modules.NewID(), Name: name, OwnerID: userID, CreatedAt: now, UpdatedAt: now}
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if kind, err := userKind(ctx, tx, userID); err != nil {
			return err
		} else if kind == KindAgent {
			return ErrAgentNoDrives
		}
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		m := Member{DriveID: d.ID, UserID: userID, Role: RoleOwner, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		// The creator joins the drive as its owner: the access fact says so, for drive presence.
		created := eventlog.Draft{Type: EventDriveCreated, DriveID: d.ID, ActorID: userID,
			Rooms:   []modules.Room{modules.DriveRoom(d.ID), modules.UserRoom(userID)},
			Payload: DriveCreatedPayload{Drive: eventDrive(d)}, Access: eventlog.UsersChanged("drive_created", userID)}
		created.Access.Membership = eventlog.Joined
		rec.Record(created)
		return nil
	})
	if err != nil {
		return DriveInfo{}, wrap("create drive", err)
	}
	return driveInfo(d, RoleOwner), nil
}

// loadDrive returns the drive and userID's role in it, reading through r (s.r for a read,
// s.r.In(tx) for a write). A user who does not see the drive (DriveView.SeesDrive) gets
// ErrDriveNotFound; a grantee gets NoRole.
func (s *Service) loadDrive(ctx context.Context, r *Resolver, userID, driveID string) (Drive, Role, error) {
	role, err := r.Role(ctx, userID, driveID)
	if err != nil {
		return Drive{}, NoRole, err
	}
	db := r.db.WithContext(ctx)
	var d Drive
	err = db.Where("id = ?", driveID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Drive{}, NoRole, ErrDriveNotFound
	}
	if err != nil {
		return Drive{}, NoRole, err
	}
	if role != NoRole {
		return d, role, nil
	}
	var n int64
	err = db.Raw(`SELECT COUNT(*) FROM (`+granteesSQL+`) g WHERE g.user_id = ? AND g.drive_id = ?`,
		modules.Now(), userID, driveID).Scan(&n).Error
	if err != nil {
		return Drive{}, NoRole, err
	}
	if n == 0 {
		return Drive{}, NoRole, ErrDriveNotFound
	}
	return d, NoRole, nil
}

// memberDrive is loadDrive for routes that need a member: a grantee sees the drive, so it gets
// ErrForbidden rather than not-found. want, when set, is the test the role must pass.
func (s *Service) memberDrive(ctx context.Context, r *Resolver, userID, driveID string, want func(Role) bool) (Drive, Role, error) {
	d, role, err := s.loadDrive(ctx, r, userID, driveID)
	if err != nil {
		return Drive{}, NoRole, err
	}
	if role == NoRole || (want != nil && !want(role)) {
		return Drive{}, NoRole, ErrForbidden
	}
	return d, role, nil
}

// GetDrive returns a drive the caller is a member of or holds a grant in.
func (s *Service) GetDrive(ctx context.Context, driveID string) (DriveInfo, error) {
	userID := modules.UserID(ctx)
	d, role, err := s.loadDrive(ctx, s.r, userID, driveID)
	if err != nil {
		return DriveInfo{}, wrap("get drive", err)
	}
	return driveInfo(d, role), nil
}

// driveAudience is the drive room plus the user room of everyone who sees the drive
// (DriveView.SeesDrive): its members and grantees. It returns the rooms and the users.
func driveAudience(ctx context.Context, tx *gorm.DB, driveID string) ([]modules.Room, []string, error) {
	var ids []string
	err := tx.WithContext(ctx).Raw(`SELECT user_id FROM drive_members WHERE drive_id = ?
		UNION SELECT g.user_id FROM (`+granteesSQL+`) g WHERE g.drive_id = ?`,
		driveID, modules.Now(), driveID).Scan(&ids).Error
	if err != nil {
		return nil, nil, err
	}
	rooms := []modules.Room{modules.DriveRoom(driveID)}
	for _, id := range ids {
		rooms = append(rooms, modules.UserRoom(id))
	}
	return rooms, ids, nil
}

// UpdateDrive renames a drive; OWNER and ADMIN only. An absent name changes nothing.
func (s *Service) UpdateDrive(ctx context.Context, driveID string, in DriveInput) (DriveInfo, error) {
	userID := modules.UserID(ctx)
	var v modules.Validator
	var name string
	if in.Name.Set {
		name = driveName(&v, in.Name)
	}
	if err := v.Err(); err != nil {
		return DriveInfo{}, err
	}
	var out DriveInfo
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		d, role, err := s.loadDrive(ctx, s.r.In(tx), userID, driveID)
		if err != nil {
			return err
		}
		if !role.Manages() {
			return ErrForbidden
		}
		out = driveInfo(d, role)
		if !in.Name.Set || name == d.Name {
			return nil
		}
		d.Name, d.UpdatedAt = name, modules.Now()
		if err := tx.Model(&Drive{}).Where("id = ?", d.ID).Updates(map[string]any{"name": d.Name, "updated_at": d.UpdatedAt}).Error; err != nil {
			return err
		}
		out = driveInfo(d, role)
		rooms, _, err := driveAudience(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		rec.Record(eventlog.Draft{Type: EventDriveUpdated, DriveID: d.ID, ActorID: userID, Rooms: rooms,
			Payload: DriveUpdatedPayload{Drive: eventDrive(d)}})
		return nil
	})
	if err != nil {
		return DriveInfo{}, wrap("update drive", err)
	}
	return out, nil
}

// DeleteDrive deletes a drive with its members, pages and grants; OWNER only.
func (s *Service) DeleteDrive(ctx context.Context, driveID string) error {
	userID := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if err := LockDrive(ctx, tx, driveID, Exclusive); err != nil {
			return err
		}
		d, role, err := s.loadDrive(ctx, s.r.In(tx), userID, driveID)
		if err != nil {
			return err
		}
		if role != RoleOwner {
			return ErrForbidden
		}
		rooms, users, err := driveAudience(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		// Rows referencing the drive go by ON DELETE CASCADE (pages, members, grants, messages,
		// tasks).
		if err := tx.Where("id = ?", d.ID).Delete(&Drive{}).Error; err != nil {
			return err
		}
		gone := eventlog.DriveChanged("drive_deleted")
		gone.Membership = eventlog.Dissolved
		rec.Record(eventlog.Draft{Type: EventDriveDeleted, DriveID: d.ID, ActorID: userID, Rooms: rooms,
			Payload: DriveDeletedPayload{Drive: eventDrive(d), UserIDs: users}, Access: gone})
		return nil
	})
	return wrap("delete drive", err)
}

// ListMembers returns the members of a drive by join time; any member may ask.
func (s *Service) ListMembers(ctx context.Context, driveID string, page modules.PageRequest) (modules.List[MemberInfo], error) {
	userID := modules.UserID(ctx)
	var cur struct {
		T time.Time `json:"t"`
		U string    `json:"u"`
	}
	if page.Cursor != "" {
		if err := modules.DecodeCursor(page.Cursor, &cur); err != nil {
			return modules.List[MemberInfo]{}, err
		}
	}
	if _, _, err := s.memberDrive(ctx, s.r, userID, driveID, nil); err != nil {
		return modules.List[MemberInfo]{}, wrap("list members", err)
	}
	type row struct {
		UserID, Name, Email, Kind string
		Role                      Role
		CreatedAt                 time.Time
	}
	q := s.db.WithContext(ctx).Table("drive_members m").
		Select("m.user_id, u.name, u.email, u.kind, m.role, m.created_at").
		Joins("JOIN users u ON u.id = m.user_id").Where("m.drive_id = ?", driveID)
	if page.Cursor != "" {
		q = q.Where("(m.created_at > ? OR (m.created_at = ? AND m.user_id > ?))", cur.T, cur.T, cur.U)
	}
	var rows []row
	if err := q.Order("m.created_at, m.user_id").Limit(page.Limit + 1).Scan(&rows).Error; err != nil {
		return modules.List[MemberInfo]{}, wrap("list members", err)
	}
	return modules.NewList(rows, page.Limit, func(r row) MemberInfo {
		return MemberInfo{UserID: r.UserID, Name: r.Name, Email: r.Email, Role: r.Role, JoinedAt: modules.Time(r.CreatedAt), Kind: r.Kind}
	}, func(r row) any {
		return map[string]any{"t": r.CreatedAt.UTC(), "u": r.UserID}
	}), nil
}

// AddMemberInput is the body of POST /api/drives/{id}/members: exactly one of Email and UserID.
type AddMemberInput struct {
	Email  *string `json:"email"`
	UserID *string `json:"userId"`
	Role   *Role   `json:"role"`
}

// checkRole validates a role that may be given to a member: never OWNER.
func checkRole(v *modules.Validator, role *Role) Role {
	switch {
	case role == nil:
		v.Check(false, "role", "is required")
	case *role == RoleOwner:
		v.Check(false, "role", "cannot be OWNER: a drive has one owner, its creator")
	default:
		v.Check(role.Valid(), "role", "must be one of ADMIN, MEMBER, VIEWER")
	}
	if role == nil {
		return NoRole
	}
	return *role
}

// AddMember adds a user, found by id or email, to a drive; OWNER and ADMIN only.
func (s *Service) AddMember(ctx context.Context, driveID string, in AddMemberInput) (MemberInfo, error) {
	actorID := modules.UserID(ctx)
	var v modules.Validator
	role := checkRole(&v, in.Role)
	v.Check((in.Email == nil) != (in.UserID == nil), "email", "give exactly one of email and userId")
	email := ""
	if in.Email != nil {
		email = strings.ToLower(strings.TrimSpace(*in.Email))
		_, err := mail.ParseAddress(email)
		v.Check(email != "" && err == nil && len(email) <= 254, "email", "must be a valid email address")
	}
	if in.UserID != nil {
		v.Check(modules.ValidID(*in.UserID), "userId", "must be a user id")
	}
	if err := v.Err(); err != nil {
		return MemberInfo{}, err
	}
	var out MemberInfo
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if _, _, err := s.memberDrive(ctx, s.r.In(tx), actorID, driveID, Role.Manages); err != nil {
			return err
		}
		var u userRow
		q := tx.Where("id = ?", in.UserID)
		if in.Email != nil {
			q = tx.Where("email = ?", email)
		}
		if err := q.Take(&u).Error; errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && u.foreignAgent(driveID)) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&Member{}).Where("drive_id = ? AND user_id = ?", driveID, u.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrAlreadyMember
		}
		now := modules.Now()
		m := Member{DriveID: driveID, UserID: u.ID, Role: role, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			if modules.IsUniqueViolation(err) {
				return ErrAlreadyMember
			}
			return err
		}
		out = MemberInfo{UserID: u.ID, Name: u.Name, Email: u.Email, Role: role, JoinedAt: modules.Time(now), Kind: u.Kind}
		rec.Record(memberAdded(actorID, driveID, EventMember{UserID: u.ID, Name: u.Name, Role: role}))
		return nil
	})
	if err != nil {
		return MemberInfo{}, wrap("add member", err)
	}
	return out, nil
}

// RoleInput is the body of PATCH /api/drives/{id}/members/{userId}.
type RoleInput struct {
	Role *Role `json:"role"`
}

// rank orders roles: a higher rank may do more.
func (r Role) rank() int {
	switch r {
	case RoleOwner:
		return 4
	case RoleAdmin:
		return 3
	case RoleMember:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// targetMember loads the member a manager acts on and applies the rules every member change
// shares: the owner's membership cannot change, and an ADMIN acts on another ADMIN only as
// the OWNER would, i.e. not at all.
func targetMember(ctx context.Context, tx *gorm.DB, actorID string, actorRole Role, driveID, userID string) (Member, userRow, error) {
	var m Member
	err := tx.WithContext(ctx).Where("drive_id = ? AND user_id = ?", driveID, userID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Member{}, userRow{}, ErrMemberNotFound
	}
	if err != nil {
		return Member{}, userRow{}, err
	}
	if m.Role == RoleOwner {
		return Member{}, userRow{}, ErrOwnerImmutable
	}
	if m.Role == RoleAdmin && actorRole != RoleOwner && userID != actorID {
		return Member{}, userRow{}, ErrAdminProtected
	}
	var u userRow
	if err := tx.WithContext(ctx).Where("id = ?", userID).Take(&u).Error; err != nil {
		return Member{}, userRow{}, err
	}
	return m, u, nil
}

// ChangeRole sets a member's role; OWNER and ADMIN only (an ADMIN may lower their own role, but
// not change another ADMIN's).
func (s *Service) ChangeRole(ctx context.Context, driveID, userID string, in RoleInput) (MemberInfo, error) {
	actorID := modules.UserID(ctx)
	var v modules.Validator
	role := checkRole(&v, in.Role)
	if err := v.Err(); err != nil {
		return MemberInfo{}, err
	}
	var out MemberInfo
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if err := LockDrive(ctx, tx, driveID, Exclusive); err != nil {
			return err
		}
		_, actorRole, err := s.memberDrive(ctx, s.r.In(tx), actorID, driveID, Role.Manages)
		if err != nil {
			return err
		}
		m, u, err := targetMember(ctx, tx, actorID, actorRole, driveID, userID)
		if err != nil {
			return err
		}
		out = MemberInfo{UserID: u.ID, Name: u.Name, Email: u.Email, Role: role, JoinedAt: modules.Time(m.CreatedAt), Kind: u.Kind}
		if m.Role == role {
			return nil
		}
		if err := tx.Model(&Member{}).Where("drive_id = ? AND user_id = ?", driveID, userID).
			Updates(map[string]any{"role": role, "updated_at": modules.Now()}).Error; err != nil {
			return err
		}
		rec.Record(memberDraft(EventMemberRoleChanged, actorID, driveID, userID, "role_changed",
			MemberRoleChangedPayload{UserID: userID, Member: EventMember{UserID: userID, Name: u.Name, Role: role},
				PreviousRole: m.Role, AccessReduced: role.rank() < m.Role.rank()}))
		return nil
	})
	if err != nil {
		return MemberInfo{}, wrap("change role", err)
	}
	return out, nil
}

// RemoveMember removes a member; OWNER and ADMIN may remove others, anyone but the owner may
// leave. Page grants the user holds in the drive stay: they are revoked separately.
func (s *Service) RemoveMember(ctx context.Context, driveID, userID string) error {
	actorID := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		// The member's writes already checked commit first; later ones see the removal.
		if err := LockDrive(ctx, tx, driveID, Exclusive); err != nil {
			return err
		}
		_, actorRole, err := s.loadDrive(ctx, s.r.In(tx), actorID, driveID)
		if err != nil {
			return err
		}
		if userID != actorID && !actorRole.Manages() {
			return ErrForbidden
		}
		m, u, err := targetMember(ctx, tx, actorID, actorRole, driveID, userID)
		if err != nil {
			return err
		}
		if err := tx.Where("drive_id = ? AND user_id = ?", driveID, userID).Delete(&Member{}).Error; err != nil {
			return err
		}
		removed := memberDraft(EventMemberRemoved, actorID, driveID, userID, "member_removed",
			MemberRemovedPayload{UserID: userID, Member: EventMember{UserID: userID, Name: u.Name, Role: m.Role}, AccessReduced: true})
		removed.Access.Membership = eventlog.Left
		rec.Record(removed)
		return nil
	})
	return wrap("remove member", err)
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("permissions: %s: %w", op, err)
}
