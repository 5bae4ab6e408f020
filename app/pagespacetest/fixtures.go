package pagespacetest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Fixtures go through the public routes, so a test sets up state the way a client would.

// User is a signed-up user with its tokens.
type User struct {
	ID           string
	Email        string
	Name         string
	Token        string // the access token, for Authorization: Bearer and the socket's auth
	RefreshToken string
}

var userSeq atomic.Int64

// Signup creates a user named name (with a unique email, password "correct horse").
func (s *Server) Signup(name string) User {
	s.T.Helper()
	email := fmt.Sprintf("%s.%d.%d@example.com", strings.ToLower(strings.ReplaceAll(name, " ", ".")), time.Now().UnixNano(), userSeq.Add(1))
	var r struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	s.Do("POST", "/api/auth/signup", "", map[string]string{"email": email, "password": "correct horse", "name": name}).Expect(201).JSON(&r)
	return User{ID: r.User.ID, Email: email, Name: name, Token: r.AccessToken, RefreshToken: r.RefreshToken}
}

// CreateDrive creates a drive owned by u and returns its id.
func (s *Server) CreateDrive(u User, name string) string {
	s.T.Helper()
	return s.Do("POST", "/api/drives", u.Token, map[string]any{"name": name}).Expect(201).ID()
}

// AddMember adds member to the drive with role (ADMIN, MEMBER or VIEWER), acting as admin.
func (s *Server) AddMember(admin User, driveID string, member User, role string) {
	s.T.Helper()
	s.Do("POST", "/api/drives/"+driveID+"/members", admin.Token, map[string]any{"userId": member.ID, "role": role}).Expect(201)
}

// CreatePage creates a page of type typ (FOLDER, DOCUMENT, CHANNEL, TASK_LIST) under parentID
// ("" for the drive root) and returns its id.
func (s *Server) CreatePage(u User, driveID, typ, title, parentID string) string {
	s.T.Helper()
	body := map[string]any{"title": title, "type": typ}
	if parentID != "" {
		body["parentId"] = parentID
	}
	return s.Do("POST", "/api/drives/"+driveID+"/pages", u.Token, body).Expect(201).ID()
}

// PostMessage posts content to a CHANNEL page as u and returns the message's id.
func (s *Server) PostMessage(u User, pageID, content string) string {
	s.T.Helper()
	return s.Do("POST", "/api/pages/"+pageID+"/messages", u.Token, map[string]any{"content": content}).Expect(201).ID()
}
