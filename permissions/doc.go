// Package permissions owns drives, drive members and their roles, explicit page grants, and the
// single access resolver that every other package asks "what may user U do on page P?".
// Nothing else decides access. Revocations (a member removed, a role lowered, a grant revoked
// or narrowed) are recorded as events in the log like every other write.
//
// Resolution, in order: OWNER and ADMIN may do everything in their drive; otherwise an explicit
// grant on the page, or else on its nearest ancestor that has one, decides (an expired grant
// counts as absent, and a grant of nothing denies); otherwise MEMBER may view and edit and VIEWER
// may view every page that is not private (isPrivate on the page or an ancestor). A grant above a
// private page decides for it too: privacy only matters where no grant decides. Any right
// implies view.
//
// # HTTP surface (Service holds the rules, Handler only translates)
//
//   - GET/POST /api/drives, GET/PATCH/DELETE /api/drives/{driveId}. The list holds the drives the
//     caller is a member of (with their role) and those where they only hold a grant (role null),
//     ordered by id (creation order). A "grantee" holds an active grant with at least one right
//     on a page that is not in the trash; anyone else gets 404 for the drive. PATCH is for OWNER
//     and ADMIN, DELETE for the OWNER (it cascades to members, pages, grants, messages, tasks).
//   - /api/drives/{driveId}/members: any member lists (join order); OWNER and ADMIN add, change
//     roles and remove. Roles given are ADMIN, MEMBER or VIEWER, never OWNER: a drive has one
//     owner, its creator, whose membership cannot change (409). An ADMIN may add and promote
//     admins, but only the OWNER may change or remove another ADMIN (403). Any member but the
//     owner may remove themself (leave), and an ADMIN may lower their own role. Removing a member
//     keeps the page grants they hold; revoke those separately.
//   - /api/pages/{pageId}/permissions: the caller needs canShare on the page. Grants may go to
//     any existing user, members or not. A caller who does not manage the drive can neither grant
//     nor overwrite nor revoke rights they do not hold themselves, and while their own access
//     comes from an expiring grant, the grants they give must expire no later (403). The list
//     includes expired grants (with expiresAt), so sharers can see and renew them. Grants on a
//     trashed page can be listed but not changed (409 until the page is restored).
//
// Errors: a drive or page the caller may not see is 404; one they see without the right is 403
// (a grantee sees the drive, so member routes answer them 403). Ids that cannot exist (control
// characters, invalid UTF-8, over 128 bytes) are 404 without reaching the database.
//
// # Events
//
// drive_created, drive_updated, drive_deleted go to drive:<id> and the user rooms of every
// member and grantee (drive_deleted names them in userIds, to the owner who deleted it; anyone
// else sees only themselves there). member_added, member_removed,
// member_role_changed go to drive:<id> and user:<memberId>. permission_granted and
// permission_revoked go to page:<pageId>, drive:<driveId> and user:<granteeId>. Every member
// and permission event carries userId, whose access changed, and accessReduced, true when it may
// have lost access (conservatively: any new grant short of full non-expiring rights, any right
// or expiry taken away, any revoked grant that held a right). Event payloads carry names but no
// emails. Audience is the one rule for who may see an event of the log and what of it (for
// /api/events, live delivery and replay): grant events only reach those who may list the
// page's grants and the grantee, and no payload names a page or drive its recipient may not see.
//
// # Ordering access changes and writes
//
// A write checks access in its own transaction through Resolver.In, which takes the drive's
// access lock shared; a change that may take access away takes it exclusively first
// (LockDrive). So a write either commits before the change, or checks after it and sees it:
// no write is in the log after the event that took its author's access away.
package permissions
