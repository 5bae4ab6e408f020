package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"gorm.io/gorm"
)

// AgentKeyPrefix starts every agent API key, so that Verify tells a key from a JWT (which starts
// with "ey") without trying both.
const AgentKeyPrefix = "psk_"

// agentKeyLife is the expiry Verify reports for a key: keys do not expire, they are revoked.
const agentKeyLife = 10 * 365 * 24 * time.Hour

// lastUsedEvery is how stale a key's last_used_at may get before a use writes it again, so that a
// busy agent does not write a row on every request.
const lastUsedEvery = time.Minute

// NewAgentKey returns a new agent API key, the prefix shown in listings, and the hash to store.
// The key holds 256 random bits: sha256 of it cannot be reversed or guessed, so the slow password
// hash (argon2id, made for low-entropy secrets) would only cost every request time and memory.
func NewAgentKey() (raw, prefix, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw = AgentKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return raw, raw[:len(AgentKeyPrefix)+6], hashToken(raw)
}

// verifyAgentKey finds the key's agent. The identity's SessionID is the key's id, so revoking the
// key ends its sockets through session_ended like a logout.
func (s *Service) verifyAgentKey(token string) (modules.Identity, time.Time, error) {
	if len(token) > maxTokenLen {
		return modules.Identity{}, time.Time{}, ErrTokenInvalid
	}
	var row struct {
		ID      string
		AgentID string
	}
	err := s.db.Table("agent_keys").Select("id, agent_id").Where("key_hash = ?", hashToken(token)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return modules.Identity{}, time.Time{}, ErrTokenInvalid
	}
	if err != nil {
		return modules.Identity{}, time.Time{}, wrap("verify key", err)
	}
	return modules.Identity{UserID: row.AgentID, SessionID: row.ID, KeyID: row.ID}, time.Now().Add(agentKeyLife), nil
}

// agentKeyActive checks that the key still exists (revoking deletes it; removing the agent deletes
// its keys) and notes its use.
func (s *Service) agentKeyActive(ctx context.Context, id modules.Identity) error {
	now := modules.Now()
	db := s.db.WithContext(ctx).Table("agent_keys").Where("id = ? AND agent_id = ?", id.KeyID, id.UserID)
	res := db.Session(&gorm.Session{}).Where("last_used_at IS NULL OR last_used_at < ?", now.Add(-lastUsedEvery)).
		Update("last_used_at", now)
	if res.Error != nil {
		return wrap("key check", res.Error)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	var n int64
	if err := db.Count(&n).Error; err != nil {
		return wrap("key check", err)
	}
	if n == 0 {
		return ErrSessionEnded
	}
	return nil
}

// agentConnecting is Connecting for an agent's key: the agent's name while the key exists, noting
// its use (as agentKeyActive) only when the last one noted is older than lastUsedEvery, so that
// a connect usually costs one query.
func (s *Service) agentConnecting(ctx context.Context, id modules.Identity) (string, bool, error) {
	var rows []struct {
		Name, Kind string
		Stale      bool
	}
	err := s.db.WithContext(ctx).Raw(`SELECT u.name, u.kind, (k.last_used_at IS NULL OR k.last_used_at < ?) AS stale
		FROM users u JOIN agent_keys k ON k.agent_id = u.id WHERE u.id = ? AND k.id = ?`,
		modules.Now().Add(-lastUsedEvery), id.UserID, id.KeyID).Find(&rows).Error
	if err != nil {
		return "", false, wrap("key check", err)
	}
	if len(rows) == 0 {
		return "", false, ErrSessionEnded
	}
	if rows[0].Stale {
		if err := s.agentKeyActive(ctx, id); err != nil {
			return "", false, err
		}
	}
	return rows[0].Name, rows[0].Kind == "agent", nil
}

func isAgentKey(token string) bool { return strings.HasPrefix(token, AgentKeyPrefix) }
