package apptest

// Fixtures built on the contract's routes, so every test sets up state the way a client would.

// ID extracts the "id" of a JSON object response.
func (r *Response) ID() string {
	r.T.Helper()
	id, _ := r.Map()["id"].(string)
	if id == "" {
		r.T.Fatalf("no id in %s", r.Body)
	}
	return id
}

// CreateDrive creates a drive owned by u and returns its id.
func (e *Env) CreateDrive(u User, name string) string {
	e.T.Helper()
	return e.Do("POST", "/api/drives", u.Token, map[string]any{"name": name}).Expect(201).ID()
}

// AddMember adds member to the drive with role, acting as admin.
func (e *Env) AddMember(admin User, driveID string, member User, role string) {
	e.T.Helper()
	e.Do("POST", "/api/drives/"+driveID+"/members", admin.Token, map[string]any{"userId": member.ID, "role": role}).Expect(201)
}

// CreatePage creates a page (parentID "" for the drive root) and returns its id.
func (e *Env) CreatePage(u User, driveID, typ, title, parentID string) string {
	e.T.Helper()
	body := map[string]any{"title": title, "type": typ}
	if parentID != "" {
		body["parentId"] = parentID
	}
	return e.Do("POST", "/api/drives/"+driveID+"/pages", u.Token, body).Expect(201).ID()
}

// Grant puts an explicit grant for grantee on the page, acting as u.
func (e *Env) Grant(u User, pageID string, grantee User, view, edit, share, del bool) {
	e.T.Helper()
	e.Do("PUT", "/api/pages/"+pageID+"/permissions/"+grantee.ID, u.Token,
		map[string]any{"canView": view, "canEdit": edit, "canShare": share, "canDelete": del}).Expect(200)
}
