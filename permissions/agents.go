package permissions

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/auth"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// Agents are users of kind "agent" that belong to one drive (users.agent_drive_id) and sign in
// with API keys (auth.NewAgentKey). Being users and members, they author, resolve access and show
// in presence as anyone else; this file adds who may make and unmake them, and keeps them out of
// every other drive.

// User kinds (users.kind).
const (
	KindUser  = "user"
	KindAgent = "agent"
)

// Agent errors.
var (
	ErrAgentNotFound = modules.E(modules.KindNotFound, "agent not found")
	ErrKeyNotFound   = modules.E(modules.KindNotFound, "key not found")
	ErrAgentNoDrives = modules.E(modules.KindForbidden, "an agent cannot create drives")
)

// AgentInput is the body of POST /api/drives/{driveId}/agents.
type AgentInput struct {
	Name *string `json:"name"`
	Role *Role   `json:"role"`
}

// AgentKeyInfo is an agent key as listed: never the key itself, which is shown once.
type AgentKeyInfo struct {
	ID         string        `json:"id"`
	Prefix     string        `json:"prefix"`
	CreatedAt  modules.Time  `json:"createdAt"`
	LastUsedAt *modules.Time `json:"lastUsedAt"`
}

// AgentInfo is an agent of a drive with its keys.
type AgentInfo struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Role      Role           `json:"role"`
	Kind      string         `json:"kind"`
	CreatedAt modules.Time   `json:"createdAt"`
	Keys      []AgentKeyInfo `json:"keys"`
}

// NewKey is a key just made: Token is the key, shown this once.
type NewKey struct {
	Key   AgentKeyInfo `json:"key"`
	Token string       `json:"token"`
}

// NewAgent answers the creation of an agent.
type NewAgent struct {
	Agent AgentInfo    `json:"agent"`
	Key   AgentKeyInfo `json:"key"`
	Token string       `json:"token"`
}

type agentKey struct {
	ID         string `gorm:"primaryKey"`
	AgentID    string
	Prefix     string
	KeyHash    string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func (agentKey) TableName() string { return "agent_keys" }

func (k agentKey) info() AgentKeyInfo {
	out := AgentKeyInfo{ID: k.ID, Prefix: k.Prefix, CreatedAt: modules.Time(k.CreatedAt)}
	if k.LastUsedAt != nil {
		t := modules.Time(*k.LastUsedAt)
		out.LastUsedAt = &t
	}
	return out
}

// Streams ends the streamed messages of an author whose key or account goes
// (messages.Service). InterruptStreams runs inside the revoking transaction and records its
// events with rec, so that the messages end with the access, in the same commit.
type Streams interface {
	// InterruptStreams ends authorID's streaming messages in driveID (only those started with
	// the agent key keyID, when set) as interrupted with reason, as actorID.
	InterruptStreams(ctx context.Context, tx *gorm.DB, rec *eventlog.Recorder, actorID, driveID, authorID, keyID, reason string) error
}

// Stream interruption reasons (messages' statusReason).
const (
	reasonKeyRevoked  = "key_revoked"
	reasonUserDeleted = "user_deleted"
)

// SetStreams lets key revocations and agent removals end the streams they cut off; call it
// before serving.
func (h *Handler) SetStreams(st Streams) { h.svc.streams = st }

// interruptStreams ends the streams of an agent of driveID through the Streams set, if any.
func (s *Service) interruptStreams(ctx context.Context, tx *gorm.DB, rec *eventlog.Recorder, actorID, driveID, agentID, keyID, reason string) error {
	if s.streams == nil {
		return nil
	}
	return s.streams.InterruptStreams(ctx, tx, rec, actorID, driveID, agentID, keyID, reason)
}

// userKind returns the kind of a user ("" when there is no such user).
func userKind(ctx context.Context, db *gorm.DB, userID string) (string, error) {
	var kinds []string
	err := db.WithContext(ctx).Table("users").Where("id = ?", userID).Pluck("kind", &kinds).Error
	if err != nil || len(kinds) == 0 {
		return "", err
	}
	return kinds[0], nil
}

func newKeyRow(agentID string) (agentKey, string) {
	raw, prefix, hash := auth.NewAgentKey()
	return agentKey{ID: modules.NewID(), AgentID: agentID, Prefix: prefix, KeyHash: hash, CreatedAt: modules.Now()}, raw
}

// CreateAgent makes an agent member of a drive with its first key; OWNER and ADMIN only.
func (s *Service) CreateAgent(ctx context.Context, driveID string, in AgentInput) (NewAgent, error) {
	actorID := modules.UserID(ctx)
	var v modules.Validator
	role := checkRole(&v, in.Role)
	name := ""
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
	}
	v.Check(name != "" && len([]rune(name)) <= 100, "name", "must be 1 to 100 characters")
	if err := v.Err(); err != nil {
		return NewAgent{}, err
	}
	var out NewAgent
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if _, _, err := s.memberDrive(ctx, s.r.In(tx), actorID, driveID, Role.Manages); err != nil {
			return err
		}
		now := modules.Now()
		id := modules.NewID()
		// The address is never mailed nor used to sign in (login skips agents); it fills the
		// unique column.
		if err := tx.Table("users").Create(map[string]any{"id": id, "email": id + "@agents.invalid", "name": name,
			"password_hash": "", "kind": KindAgent, "agent_drive_id": driveID, "created_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Create(&Member{DriveID: driveID, UserID: id, Role: role, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			return err
		}
		key, raw := newKeyRow(id)
		if err := tx.Create(&key).Error; err != nil {
			return err
		}
		out = NewAgent{Agent: AgentInfo{ID: id, Name: name, Role: role, Kind: KindAgent, CreatedAt: modules.Time(now),
			Keys: []AgentKeyInfo{key.info()}}, Key: key.info(), Token: raw}
		rec.Record(memberAdded(actorID, driveID, EventMember{UserID: id, Name: name, Role: role}))
		return nil
	})
	if err != nil {
		return NewAgent{}, wrap("create agent", err)
	}
	return out, nil
}

// ListAgents returns a drive's agents, oldest first, with their keys; OWNER and ADMIN only.
func (s *Service) ListAgents(ctx context.Context, driveID string) ([]AgentInfo, error) {
	actorID := modules.UserID(ctx)
	if _, _, err := s.memberDrive(ctx, s.r, actorID, driveID, Role.Manages); err != nil {
		return nil, wrap("list agents", err)
	}
	var rows []struct {
		ID, Name  string
		Role      Role
		CreatedAt time.Time
	}
	err := s.db.WithContext(ctx).Table("users u").Select("u.id, u.name, m.role, u.created_at").
		Joins("JOIN drive_members m ON m.user_id = u.id AND m.drive_id = u.agent_drive_id").
		Where("u.agent_drive_id = ? AND u.kind = ?", driveID, KindAgent).Order("u.created_at, u.id").Scan(&rows).Error
	if err != nil {
		return nil, wrap("list agents", err)
	}
	out := make([]AgentInfo, 0, len(rows))
	idx := map[string]int{}
	ids := make([]string, 0, len(rows))
	for i, r := range rows {
		out = append(out, AgentInfo{ID: r.ID, Name: r.Name, Role: r.Role, Kind: KindAgent, CreatedAt: modules.Time(r.CreatedAt), Keys: []AgentKeyInfo{}})
		idx[r.ID] = i
		ids = append(ids, r.ID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	var keys []agentKey
	if err := s.db.WithContext(ctx).Where("agent_id IN ?", ids).Order("created_at, id").Find(&keys).Error; err != nil {
		return nil, wrap("list agents", err)
	}
	for _, k := range keys {
		out[idx[k.AgentID]].Keys = append(out[idx[k.AgentID]].Keys, k.info())
	}
	return out, nil
}

// agentOf checks, in tx, that actorID manages driveID and agentID is one of its agents.
func (s *Service) agentOf(ctx context.Context, tx *gorm.DB, actorID, driveID, agentID string) (userRow, error) {
	if _, _, err := s.memberDrive(ctx, s.r.In(tx), actorID, driveID, Role.Manages); err != nil {
		return userRow{}, err
	}
	var u userRow
	err := tx.WithContext(ctx).Where("id = ? AND kind = ? AND agent_drive_id = ?", agentID, KindAgent, driveID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return userRow{}, ErrAgentNotFound
	}
	return u, err
}

// CreateAgentKey gives an agent another key (to rotate: create, switch, revoke the old).
func (s *Service) CreateAgentKey(ctx context.Context, driveID, agentID string) (NewKey, error) {
	actorID := modules.UserID(ctx)
	var out NewKey
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := s.agentOf(ctx, tx, actorID, driveID, agentID); err != nil {
			return err
		}
		key, raw := newKeyRow(agentID)
		out = NewKey{Key: key.info(), Token: raw}
		return tx.Create(&key).Error
	})
	if err != nil {
		return NewKey{}, wrap("create agent key", err)
	}
	return out, nil
}

// RevokeAgentKey deletes a key. Its REST calls are refused from then on, the messages it was
// streaming are interrupted, and session_ended (the key is the session) disconnects the sockets
// it opened.
func (s *Service) RevokeAgentKey(ctx context.Context, driveID, agentID, keyID string) error {
	actorID := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if _, err := s.agentOf(ctx, tx, actorID, driveID, agentID); err != nil {
			return err
		}
		res := tx.Where("id = ? AND agent_id = ?", keyID, agentID).Delete(&agentKey{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrKeyNotFound
		}
		if err := s.interruptStreams(ctx, tx, rec, actorID, driveID, agentID, keyID, reasonKeyRevoked); err != nil {
			return err
		}
		rec.Record(auth.SessionEndedDraft(actorID, agentID, keyID, auth.ReasonKeyRevoked))
		return nil
	})
	return wrap("revoke agent key", err)
}

// RemoveAgent deletes an agent with its membership and keys, as an account deletion does
// (user_deleted): its sockets are disconnected, the messages it was streaming interrupted, and
// what it wrote stays without an author.
func (s *Service) RemoveAgent(ctx context.Context, driveID, agentID string) error {
	actorID := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if err := LockDrive(ctx, tx, driveID, Exclusive); err != nil {
			return err
		}
		if _, err := s.agentOf(ctx, tx, actorID, driveID, agentID); err != nil {
			return err
		}
		// Before the user row goes, while the messages still name their author.
		if err := s.interruptStreams(ctx, tx, rec, actorID, driveID, agentID, "", reasonUserDeleted); err != nil {
			return err
		}
		if err := tx.Where("id = ?", agentID).Delete(&userRow{}).Error; err != nil {
			return err
		}
		rec.Record(auth.UserDeletedDraft(actorID, agentID, []string{driveID}))
		return nil
	})
	return wrap("remove agent", err)
}
