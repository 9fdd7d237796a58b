"""PRDs of different shapes, shared by the allocate tests."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "parallel-test" / "feature-prd.md"

NO_ANNOTATIONS = """\
# Password reset

Users who forget their password are stuck today.

## Tasks
- Build the reset request page with an email form and a confirmation screen
- Add REST endpoint that sends the reset email
- Create the reset tokens table with an expiry index
- Write integration tests for the reset flow
- Document the reset flow in the user guide
- Style the reset form so it is responsive on mobile
- Add API rate limiting on the reset endpoint
- Add a database query that purges expired tokens
"""

FULLY_ANNOTATED = """\
# Billing

## Requirements
- Payments: Stripe checkout and invoices

## Implementation
- P1: [payments] Stripe checkout session `payments/checkout.py` (3h)
- P2: [payments] Invoice PDF generation `payments/invoices.py` (2h, depends on: P1)
- W1: [frontend] Checkout button and plan picker `frontend/billing/Checkout.tsx` (3h, depends on: P1)
- W2: [frontend] Invoice list page `frontend/billing/Invoices.tsx` (2h) after: Invoice PDF generation
- D1: [database] Subscriptions migration `db/migrations/003_subscriptions.sql` (30m)
- D2: [database] Invoice table and indexes `db/invoices.sql` (4h, depends on: D1)
- X1: [infra] Deploy the billing service to staging `infra/billing.tf` (1d, depends on: P2, W2)
"""

MANY_AGENTS = """\
# Admin console

## Task Breakdown

### Frontend
- Users table component `frontend/components/UsersTable.tsx` (2h)
- Roles editor component `frontend/components/RolesEditor.tsx` (2h)
- Settings page `frontend/pages/Settings.tsx` (2h)
- Audit log page `frontend/pages/AuditLog.tsx` (2h)
- Navigation hook `frontend/hooks/useNav.ts` (2h)
- Permissions hook `frontend/hooks/usePermissions.ts` (2h)

### Backend
- Users API `backend/api/users.py` (2h)
- Roles API `backend/api/roles.py` (2h)
"""

MANY_STREAMS = """\
# Search

## Work items
- [frontend] Search box with suggestions (4h)
- [frontend] Results page (2h)
- [backend] Search endpoint (4h)
- [backend] Suggestion endpoint (2h)
- [ml] Ranking model (3h)
- [ml] Query embeddings (2h)
- [database] Search index table (2h)
- [tests] End-to-end search tests (3h)
- [docs] Search how-to (2h)
"""

CYCLE = """\
# Cyclic

## Tasks
- A1: First thing (depends on: A3)
- A2: Second thing (depends on: A1)
- A3: Third thing (depends on: A2)
- A4: Unrelated thing
"""

PROSE = """\
# Notifications

We want users to hear about things that matter without drowning in email. This page says
what we are building and in which order; the team will adjust as we learn.

## Background
Notifications are sent ad hoc from five places today. See `docs/adr/007-notifications.md`.

- Email volume doubled last quarter
- Users asked for a digest

## Work items
First the plumbing, then the user-facing parts.

- Notification service that fans out events to channels
- Email digest job that batches notifications daily
- Preferences page where users pick channels
- Unsubscribe link handling in the email templates

Once those are in, we will look at push notifications.

## Notes
- The old mailer stays until the digest ships
"""
