package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// Errors of the package.
var (
	ErrEmailTaken     = modules.E(modules.KindConflict, "an account with this email already exists")
	ErrBadCredentials = modules.E(modules.KindUnauthorized, "invalid email or password")
	ErrRefreshInvalid = &modules.Error{Kind: modules.KindUnauthorized, Message: "invalid refresh token", Code: "invalid_token"}
	ErrRefreshReused  = &modules.Error{Kind: modules.KindUnauthorized, Message: "refresh token already used; the session has been revoked", Code: "token_reused"}
	ErrUserNotFound   = modules.E(modules.KindNotFound, "user not found")
	// ErrTooManyAttempts refuses a password check over the account's limit (Config.PasswordAttempts).
	ErrTooManyAttempts = modules.E(modules.KindRateLimited, "too many password attempts for this account; try again in a minute")
)

// Field limits.
const (
	maxEmailLen    = 254
	maxName        = 100
	minPassword    = 8
	maxPassw       = 256
	maxTokenLen    = 256 // bytes; refresh tokens are 43
	errPasswordLen = "must be 8 to 256 characters"
)

// User is an account.
type User struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// View is a user as the API shows it.
type View struct {
	ID        string       `json:"id"`
	Email     string       `json:"email"`
	Name      string       `json:"name"`
	CreatedAt modules.Time `json:"createdAt"`
}

// View returns the public view of u.
func (u User) View() View {
	return View{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: modules.Time(u.CreatedAt)}
}

// refreshToken is one token of a session family; only its hash is stored.
type refreshToken struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	FamilyID  string
	TokenHash string
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
	CreatedAt time.Time
}

func (refreshToken) TableName() string { return "refresh_tokens" }

// Session is what signup, login and refresh answer.
type Session struct {
	User         View   `json:"user"`
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int    `json:"expiresIn"` // seconds until the access token expires
}

// Config holds the service's settings.
type Config struct {
	RefreshTTL time.Duration // default 30 days
	Hash       HashParams    // default DefaultHashParams
	// HashMemory is the memory, in bytes, that the password hashes running at once may take
	// (default DefaultHashMemory); a hash waits for its share. At least one hash always runs.
	HashMemory int64
	// PasswordAttempts is how many password checks (login, account deletion) one account may
	// have a minute, in bursts of a third of that; 0 means no limit.
	PasswordAttempts int
}

// AccountDrives returns, read through the account deletion's transaction tx, the drives userID
// is a member of and whether it owns one. The package that owns drives and their members provides
// it (permissions.AccountDrives): deleting an account refuses an owner, and tells the rooms of the
// member drives.
type AccountDrives func(ctx context.Context, tx *gorm.DB, userID string) (member []string, owns bool, err error)

// Service runs accounts and sessions. It is safe for concurrent use.
type Service struct {
	db     *gorm.DB
	log    *eventlog.Log
	tokens *Tokens
	drives AccountDrives
	cfg    Config
	hasher *hasher
	tries  *modules.Limiter // password checks per account (its email)
	dummy  string           // a hash to compare against for unknown emails, so timing does not tell
}

// NewService returns the auth service; drives answers for the drives of an account being deleted.
func NewService(db *gorm.DB, log *eventlog.Log, tokens *Tokens, drives AccountDrives, cfg Config) *Service {
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.Hash.Memory == 0 {
		cfg.Hash = DefaultHashParams
	}
	if cfg.HashMemory <= 0 {
		cfg.HashMemory = DefaultHashMemory
	}
	h := newHasher(cfg.Hash, cfg.HashMemory)
	dummy, _ := h.hash(context.Background(), "not a real password")
	return &Service{db: db, log: log, tokens: tokens, drives: drives, cfg: cfg, hasher: h, tries: modules.NewLimiter(cfg.PasswordAttempts), dummy: dummy}
}

// Tokens is the access-token issuer/verifier.
func (s *Service) Tokens() *Tokens { return s.tokens }

// Verify checks an access token's signature and times (Tokens.Verify). Whether its session still
// holds is SessionActive's question.
// An agent API key (AgentKeyPrefix) is looked up instead.
func (s *Service) Verify(token string) (modules.Identity, time.Time, error) {
	if isAgentKey(token) {
		return s.verifyAgentKey(token)
	}
	return s.tokens.Verify(token)
}

// SignupInput is the signup body.
type SignupInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func normalizeEmail(v *modules.Validator, email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	addr, err := mail.ParseAddress(email)
	v.Check(email != "", "email", "is required")
	v.Check(email == "" || (err == nil && addr.Address == email && len(email) <= maxEmailLen), "email", "must be a valid email address")
	return email
}

// Signup creates an account and its first session.
func (s *Service) Signup(ctx context.Context, in SignupInput) (Session, error) {
	var v modules.Validator
	email := normalizeEmail(&v, in.Email)
	v.Text("name", in.Name, 1, maxName, false)
	v.Check(len([]rune(in.Password)) >= minPassword && len([]rune(in.Password)) <= maxPassw, "password", errPasswordLen)
	if err := v.Err(); err != nil {
		return Session{}, err
	}
	hash, err := s.hasher.hash(ctx, in.Password)
	if err != nil {
		return Session{}, fmt.Errorf("auth: hash: %w", err)
	}
	now := modules.Now()
	u := User{ID: newID(), Email: email, Name: strings.TrimSpace(in.Name), PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	var sess Session
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&User{}).Where("email = ?", email).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return ErrEmailTaken
		}
		if err := tx.Create(&u).Error; err != nil {
			if modules.IsUniqueViolation(err) {
				return ErrEmailTaken
			}
			return err
		}
		sess, err = s.startSession(tx, u, newID(), now)
		return err
	})
	if err != nil {
		return Session{}, wrap("signup", err)
	}
	return sess, nil
}

// LoginInput is the login body.
type LoginInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Login checks credentials and starts a session. Unknown email and wrong password answer the
// same ErrBadCredentials after the same work, and count against the same per-account limit
// (ErrTooManyAttempts), so neither tells whether an account exists.
func (s *Service) Login(ctx context.Context, in LoginInput) (Session, error) {
	if in.Email == "" || in.Password == "" || len(in.Password) > 4*maxPassw {
		return Session{}, modules.Invalid("email and password are required", nil)
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if !s.tries.Allow(email) {
		return Session{}, ErrTooManyAttempts
	}
	var u User
	// Agents have no password: they sign in with keys only.
	err := s.db.WithContext(ctx).Where("email = ? AND kind = 'user'", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if _, err := s.hasher.check(ctx, in.Password, s.dummy); err != nil {
			return Session{}, err
		}
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, wrap("login", err)
	}
	if match, err := s.hasher.check(ctx, in.Password, u.PasswordHash); err != nil {
		return Session{}, err
	} else if !match {
		return Session{}, ErrBadCredentials
	}
	sess, err := s.startSession(s.db.WithContext(ctx), u, newID(), modules.Now())
	return sess, wrap("login", err)
}

// startSession stores a new refresh token in family and issues an access token.
func (s *Service) startSession(db *gorm.DB, u User, family string, now time.Time) (Session, error) {
	raw, hash := newRefreshToken()
	rt := refreshToken{ID: newID(), UserID: u.ID, FamilyID: family, TokenHash: hash, ExpiresAt: now.Add(s.cfg.RefreshTTL), CreatedAt: now}
	if err := db.Create(&rt).Error; err != nil {
		return Session{}, err
	}
	access, exp, err := s.tokens.Issue(u.ID, family, now)
	if err != nil {
		return Session{}, err
	}
	return Session{User: u.View(), AccessToken: access, RefreshToken: raw, ExpiresIn: int(exp.Sub(now).Seconds())}, nil
}

// Refresh spends a refresh token and returns the next pair of its family. A spent or revoked
// token revokes the whole family and answers ErrRefreshReused.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	if err := checkRefreshToken(token); err != nil {
		return Session{}, err
	}
	now := modules.Now()
	var rt refreshToken
	err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&rt).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, ErrRefreshInvalid
	}
	if err != nil {
		return Session{}, wrap("refresh", err)
	}
	if rt.RevokedAt != nil || rt.UsedAt != nil {
		if err := s.revokeFamily(ctx, rt.UserID, rt.FamilyID, ReasonTokenReused); err != nil {
			return Session{}, err
		}
		return Session{}, ErrRefreshReused
	}
	if !rt.ExpiresAt.After(now) {
		return Session{}, ErrRefreshInvalid
	}
	var sess Session
	reused := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Spending is a compare-and-set, so two concurrent refreshes cannot both succeed.
		res := tx.Model(&refreshToken{}).Where("id = ? AND used_at IS NULL AND revoked_at IS NULL", rt.ID).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			reused = true
			return nil
		}
		var u User
		if err := tx.Where("id = ?", rt.UserID).Take(&u).Error; err != nil {
			return err
		}
		var err error
		sess, err = s.startSession(tx, u, rt.FamilyID, now)
		return err
	})
	if err != nil {
		return Session{}, wrap("refresh", err)
	}
	if reused {
		if err := s.revokeFamily(ctx, rt.UserID, rt.FamilyID, ReasonTokenReused); err != nil {
			return Session{}, err
		}
		return Session{}, ErrRefreshReused
	}
	return sess, nil
}

// Logout revokes the session the refresh token belongs to. Unknown tokens are ignored, so
// logging out twice is harmless.
func (s *Service) Logout(ctx context.Context, token string) error {
	if err := checkRefreshToken(token); err != nil {
		return err
	}
	var rt refreshToken
	err := s.db.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Take(&rt).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return wrap("logout", err)
	}
	return s.revokeFamily(ctx, rt.UserID, rt.FamilyID, ReasonLogout)
}

// checkRefreshToken refuses a refresh token that is missing or too long to be one.
func checkRefreshToken(token string) error {
	if token == "" {
		return modules.Invalid("refreshToken is required", nil)
	}
	if len(token) > maxTokenLen {
		return modules.Invalid("refreshToken is not a refresh token", nil)
	}
	return nil
}

// revokeFamily revokes every token of a session and records session_ended.
func (s *Service) revokeFamily(ctx context.Context, userID, family, reason string) error {
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		res := tx.Model(&refreshToken{}).Where("family_id = ? AND revoked_at IS NULL", family).Update("revoked_at", modules.Now())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 {
			rec.Record(SessionEndedDraft(userID, userID, family, reason))
		}
		return nil
	})
	return wrap("revoke session", err)
}

// ErrOwnsDrives refuses to delete an account that still owns drives.
var ErrOwnsDrives = modules.E(modules.KindConflict, "delete your drives or transfer them before deleting your account")

// Delete removes the caller's account (modules.UserID) after checking its password. Memberships,
// grants and sessions go with it; messages and pages it wrote stay, without an author. An owner
// of drives is refused.
func (s *Service) Delete(ctx context.Context, password string) error {
	userID := modules.UserID(ctx)
	var u User
	// An agent has no password; its drive's managers remove it.
	if err := s.db.WithContext(ctx).Where("id = ? AND kind = 'user'", userID).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrUserNotFound
		}
		return wrap("delete", err)
	}
	// The same per-account limit as login: a stolen access token must not guess the password
	// here faster than anyone can at login.
	if !s.tries.Allow(u.Email) {
		return ErrTooManyAttempts
	}
	if match, err := s.hasher.check(ctx, password, u.PasswordHash); err != nil {
		return err
	} else if !match {
		return ErrBadCredentials
	}
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		drives, owns, err := s.drives(ctx, tx, userID)
		if err != nil {
			return err
		}
		if owns {
			return ErrOwnsDrives
		}
		if err := tx.Delete(&User{ID: userID}).Error; err != nil {
			return err
		}
		rec.Record(UserDeletedDraft(userID, userID, drives))
		return nil
	})
	return wrap("delete", err)
}

// ErrSessionEnded answers an access token whose user was deleted or whose session ended.
var ErrSessionEnded = &modules.Error{Kind: modules.KindUnauthorized, Message: "this session has ended; log in again", Code: "invalid_token"}

// SessionActive checks that the identity's user exists and its session was not revoked.
// For an agent, it checks that the key was not revoked.
func (s *Service) SessionActive(ctx context.Context, id modules.Identity) error {
	if id.KeyID != "" {
		return s.agentKeyActive(ctx, id)
	}
	var n int64
	err := s.db.WithContext(ctx).Table("users").Where("id = ?", id.UserID).
		Where("NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = ? AND r.revoked_at IS NOT NULL)", id.SessionID).
		Count(&n).Error
	if err != nil {
		return wrap("session check", err)
	}
	if n == 0 {
		return ErrSessionEnded
	}
	return nil
}

// UserName returns the user's name and whether it is an agent, or ErrUserNotFound.
func (s *Service) UserName(ctx context.Context, userID string) (string, bool, error) {
	var rows []struct{ Name, Kind string }
	// Find, not Scan: GORM's Scan formats every statement's SQL for a recorder, logged or not.
	err := s.db.WithContext(ctx).Model(&User{}).Select("name, kind").Where("id = ?", userID).Limit(1).Find(&rows).Error
	if err != nil {
		return "", false, wrap("user name", err)
	}
	if len(rows) == 0 {
		return "", false, ErrUserNotFound
	}
	return rows[0].Name, rows[0].Kind == "agent", nil
}

// Connecting is SessionActive and UserName in one query, for a socket that connects and for
// every REST request (Middleware, which keeps the name in modules.Identity): the
// user's name and whether it is an agent while the identity's session holds, ErrSessionEnded
// once the user is gone or the session ended (an agent's key revoked), any other error when the
// check itself failed.
func (s *Service) Connecting(ctx context.Context, id modules.Identity) (name string, agent bool, err error) {
	if id.KeyID != "" {
		return s.agentConnecting(ctx, id)
	}
	var rows []struct {
		Name, Kind string
		Ended      bool
	}
	err = s.db.WithContext(ctx).Raw(`SELECT u.name, u.kind,
			EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = ? AND r.revoked_at IS NOT NULL) AS ended
		FROM users u WHERE u.id = ?`, id.SessionID, id.UserID).Find(&rows).Error
	if err != nil {
		return "", false, wrap("session check", err)
	}
	if len(rows) == 0 || rows[0].Ended {
		return "", false, ErrSessionEnded
	}
	return rows[0].Name, rows[0].Kind == "agent", nil
}

// Me returns the caller (modules.UserID).
func (s *Service) Me(ctx context.Context) (View, error) {
	var u User
	err := s.db.WithContext(ctx).Where("id = ?", modules.UserID(ctx)).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return View{}, ErrUserNotFound
	}
	if err != nil {
		return View{}, wrap("me", err)
	}
	return u.View(), nil
}

func newRefreshToken() (raw, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, hashToken(raw)
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

func newID() string { return modules.NewID() }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("auth: %s: %w", op, err)
}
