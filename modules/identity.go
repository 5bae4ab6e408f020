package modules

import "context"

// Identity is who is calling: the user and the login session (refresh-token family) the access
// token belongs to.
type Identity struct {
	UserID    string
	SessionID string
	TokenID   string
	// KeyID is the agent API key the call came with ("" for a user's access token); SessionID
	// then holds it too.
	KeyID string
	// Name is the user's name as the request's session check read it, "" when not known.
	Name string
}

type identityKey struct{}

// WithIdentity returns a context that carries id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity in ctx, if any.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok && id.UserID != ""
}

// UserID returns the calling user's id, or "" when the context carries none.
func UserID(ctx context.Context) string {
	id, _ := IdentityFrom(ctx)
	return id.UserID
}
