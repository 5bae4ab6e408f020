// Package permissions owns drives, drive members and their roles, explicit page grants, and the
// single access resolver that every other package asks "what may user U do on page P?".
// Nothing else decides access. Revocations (a member removed, a role lowered, a grant revoked)
// are recorded as events in the log like every other write.
//
// Resolution, in order: OWNER and ADMIN may do everything in their drive; otherwise an explicit
// grant on the page, or else on its nearest ancestor that has one, decides (an expired grant
// counts as absent, and a grant of nothing denies); otherwise MEMBER may view and edit and VIEWER
// may view every page that is not private (isPrivate on the page or an ancestor).
package permissions
