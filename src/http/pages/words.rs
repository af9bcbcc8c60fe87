//! Domain values as the pages name them, in the request's language: devices, device types and
//! audit event kinds. Every value has its own catalogue message, so that a new one fails to
//! compile here until it is given words.

use crate::domain::audit::AuditKind;
use crate::domain::user_agent::{DeviceName, DeviceType};
use crate::i18n::{msg, t};

/// "Firefox on Ubuntu", "Ubuntu の Firefox"...
pub fn device(browser: &str, os: &str) -> String {
    match DeviceName::of(browser, os) {
        DeviceName::BrowserOn { browser, os } => msg("device-on")
            .arg("browser", browser)
            .arg("os", os)
            .to_string(),
        DeviceName::Browser(browser) => browser.to_owned(),
        DeviceName::UnknownBrowserOn(os) => {
            msg("device-unknown-browser-on").arg("os", os).to_string()
        }
        DeviceName::Unknown => t("device-unknown"),
    }
}

/// What a device icon stands for, for screen readers.
pub fn device_kind(device_type: DeviceType) -> String {
    t(match device_type {
        DeviceType::Desktop => "device-kind-desktop",
        DeviceType::Smartphone => "device-kind-smartphone",
        DeviceType::Tablet => "device-kind-tablet",
        DeviceType::Bot => "device-kind-bot",
        DeviceType::Other => "device-kind-other",
    })
}

/// An audit event's kind, "login failure".
pub fn audit_kind(kind: AuditKind) -> String {
    t(match kind {
        AuditKind::LoginSuccess => "audit-kind-login-success",
        AuditKind::LoginFailure => "audit-kind-login-failure",
        AuditKind::Lockout => "audit-kind-lockout",
        AuditKind::Logout => "audit-kind-logout",
        AuditKind::RevocationRequested => "audit-kind-revocation-requested",
        AuditKind::SessionRevoked => "audit-kind-session-revoked",
        AuditKind::SessionEvicted => "audit-kind-session-evicted",
        AuditKind::UserCreated => "audit-kind-user-created",
        AuditKind::UserBlocked => "audit-kind-user-blocked",
        AuditKind::UserUnblocked => "audit-kind-user-unblocked",
        AuditKind::UserUnlocked => "audit-kind-user-unlocked",
        AuditKind::AlarmRaised => "audit-kind-alarm-raised",
        AuditKind::AlarmAcknowledged => "audit-kind-alarm-acknowledged",
        AuditKind::TokenCreated => "audit-kind-token-created",
        AuditKind::TokenRevoked => "audit-kind-token-revoked",
        AuditKind::GroupCreated => "audit-kind-group-created",
        AuditKind::GroupMemberAdded => "audit-kind-group-member-added",
        AuditKind::GroupShared => "audit-kind-group-shared",
        AuditKind::RememberMeReuse => "audit-kind-remember-me-reuse",
    })
}
