// Package minutes drafts, keeps and exports the minutes of meetings.
//
// The minutes are drafted from what the meeting did (Build): its journal gives the
// order in which items were taken, the resolutions to exclude the public and the
// adjournments; the agenda's records give attendance with modes and times, apologies,
// substitutes, declarations of interest and withdrawals, public speakers, motions and
// amendments with their movers, and the clerk's notes and decisions; the vote record
// gives every vote, member by member, with the casting vote and the place of each
// ballot in the meeting's signed log, whose final checkpoint the minutes carry.
//
// One model, two views: the full minutes, for the committee's members and the council's
// staff, and the public minutes (Minutes.Public), which show exempt business (Schedule
// 12A) by its number and title and the resolution to exclude the public only.
//
// # Workflow
//
// The Service keeps each meeting's minutes as numbered versions:
//
//   - Draft: once the meeting has closed, a clerk drafts version 1. While it is a
//     draft, drafting again rebuilds it from the records and keeps, item by item, the
//     text the clerk has edited.
//   - Edit: a clerk edits the notes and decision of items. Everything else is what
//     the meeting recorded and is not edited.
//   - Approve: the chair (or vice-chair) approves the draft at a later meeting of the
//     committee that has begun; who, when and at which meeting is recorded. Approved
//     minutes are frozen.
//   - Publish: a clerk publishes the approved minutes. Published versions are never
//     changed (the store refuses to).
//   - Correct: a clerk corrects published minutes with a reason: a new version,
//     published at once, that keeps the approval and records what changed (each
//     field's text before and after, the lines added and removed, a summary). The
//     version corrected is kept.
//
// Every change is one transaction with the journal event that reports it
// (minutes.drafted, .edited, .approved, .published, .corrected), published to the
// live room after it commits. The public reads published minutes only.
//
// # Exports
//
// Each export is written from the model: WriteHTML (an accessible page, the public
// minutes page), WriteMarkdown, WritePDF, WriteCSV (one row per member per vote),
// WritePopolo (Popolo vote events with Chamber's extras), WriteRecord (the vote
// record that `chamber verify` checks) and WriteICal (a council's meetings, RFC 5545).
package minutes
