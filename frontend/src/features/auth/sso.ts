/**
 * Single sign-on in the web app: the button's link and the messages for the server's
 * `/login?sso_error=<code>` redirects. Only these fixed texts are shown, never text from the URL.
 */
import { oidcLoginUrl } from '../../client/api'
import { safeNext } from './next'

const MESSAGES: Record<string, string> = {
  sso_disabled: 'Single sign-on is not set up on this server.',
  sso_unavailable: 'The sign-in provider could not be reached. Try again in a moment.',
  sso_state_mismatch: 'That sign-in expired or was started in another browser. Please try again.',
  sso_denied: 'Sign-in was cancelled at the provider.',
  sso_provider_error: 'The sign-in provider reported an error. Please try again.',
  sso_token_failed: 'The sign-in could not be completed. Please try again.',
  sso_id_token_invalid: 'The sign-in provider’s answer could not be verified.',
  sso_nonce_mismatch: 'The sign-in provider’s answer could not be verified.',
  sso_email_missing: 'The sign-in provider did not share your email address.',
  sso_email_unverified: 'Your email address is not verified at the sign-in provider.',
  sso_registration_closed: 'There is no Citewise account for you yet, and new accounts are created by an administrator.',
  sso_invite_required: 'There is no Citewise account for you yet. Ask an administrator for an invite link.',
  sso_registration_domain: 'Accounts on this server are limited to certain email domains, and yours is not one of them.',
  sso_invite_invalid: 'This invite link is invalid, expired or already used. Ask an administrator for a new one.',
  sso_invite_email_mismatch: 'This invite is for another email address.',
  sso_account_linked: 'Your email address belongs to an account linked to another single sign-on identity.',
  sso_account_disabled: 'This account has been deactivated.',
}

/** The message for an `sso_error` code (a generic one for codes this version does not know). */
export function ssoErrorMessage(code: string | null): string | null {
  if (!code) return null
  return MESSAGES[code] ?? 'Single sign-on failed. Please try again.'
}

/** Where the "Sign in with …" link goes: the server starts the flow and comes back to `next`. */
export function ssoHref(next: string | null, invite?: string | null): string {
  const target = safeNext(next)
  return oidcLoginUrl({ next: target, ...(invite ? { invite } : {}) })
}
