package auth

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/pagespace/pagespace/modules"
)

// Token errors. Both are 401s; the code tells a client whether refreshing can help.
var (
	ErrTokenInvalid = &modules.Error{Kind: modules.KindUnauthorized, Message: "invalid access token", Code: "invalid_token"}
	ErrTokenExpired = &modules.Error{Kind: modules.KindUnauthorized, Message: "access token expired", Code: "token_expired"}
)

// leeway absorbs clock skew between processes when checking exp and iat.
const leeway = 30 * time.Second

// Claims are the access token's claims.
type Claims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies access tokens. It is safe for concurrent use.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	parser *jwt.Parser
}

// NewTokens returns an HS256 issuer/verifier with the given key and lifetime.
func NewTokens(secret []byte, ttl time.Duration) *Tokens {
	return &Tokens{
		secret: secret,
		ttl:    ttl,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithLeeway(leeway),
			jwt.WithIssuedAt(),
			jwt.WithExpirationRequired(),
		),
	}
}

// TTL is the lifetime of an access token.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for the user and session.
func (t *Tokens) Issue(userID, sessionID string, now time.Time) (string, time.Time, error) {
	exp := now.Add(t.ttl)
	claims := Claims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        uuid.NewString(),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	return s, exp, err
}

// Verify checks the token's signature, algorithm and times, and returns its identity and expiry.
// It returns ErrTokenExpired or ErrTokenInvalid.
func (t *Tokens) Verify(token string) (modules.Identity, time.Time, error) {
	var c Claims
	_, err := t.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return modules.Identity{}, time.Time{}, ErrTokenExpired
		}
		return modules.Identity{}, time.Time{}, ErrTokenInvalid
	}
	if c.Subject == "" || c.ExpiresAt == nil {
		return modules.Identity{}, time.Time{}, ErrTokenInvalid
	}
	return modules.Identity{UserID: c.Subject, SessionID: c.SessionID, TokenID: c.ID}, c.ExpiresAt.Time, nil
}
