//! Sign-up, sign-in (and its code step), password reset, email confirmation, and settings.
//! Every page renders on the server; forms post to the server functions in `super` and come
//! back here with their outcome. The only script is the time zone island on sign-up.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::*;
use crate::{
    components::layout::{AuthCard, SignedInLayout},
    forms::{Field, FormMessage, FormState, PostForm},
    page::{page, require_me},
};

/// Fills the hidden `timezone` input with the browser's IANA zone once it runs; without
/// JavaScript the field stays empty and the account starts in UTC (changeable in settings).
#[island]
fn BrowserTimeZone(value: String) -> impl IntoView {
    let (zone, set_zone) = signal(value);
    Effect::new(move |_| {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        if let Some(z) = js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
        {
            set_zone.set(z);
        }
    });
    view! { <input type="hidden" name="timezone" value=zone /> }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let state = FormState::of(form::REGISTER);
    view! {
        <Title text="Create your account" />
        <AuthCard title="Create your account">
            <PostForm action=Register::PATH novalidate=true>
                <FormMessage state=state.clone() />
                <Field name="name" label="Name" autocomplete="name" required=true state=state.clone() />
                <Field name="email" label="Email" kind="email" autocomplete="email" required=true state=state.clone() />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. Long phrases are easy to remember and hard to guess."
                    required=true
                    state=state.clone()
                />
                <BrowserTimeZone value=state.value("timezone").unwrap_or_default() />
                <button class="button button--primary button--block" type="submit">"Create account"</button>
            </PostForm>
            <p class="auth-card__alt">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let state = FormState::of(form::LOGIN);
    let query = use_query_map();
    let (next, error, reset) = query.with_untracked(|q| {
        (
            q.get("next").unwrap_or_default(),
            q.get("error").and_then(|e| login_error_message(&e)),
            q.get("reset").is_some(),
        )
    });
    let notice = (reset && state.message.is_empty())
        .then_some("Your password has been reset. Sign in with the new one.");
    let google = google_enabled().then(|| {
        view! {
            <a class="button button--block button--google" href="/api/auth/google">"Continue with Google"</a>
            <p class="divider"><span>"or with your email"</span></p>
        }
    });
    view! {
        <Title text="Sign in" />
        <AuthCard title="Sign in">
            {notice.map(|n| view! { <p class="notice notice--ok" role="status">{n}</p> })}
            {error.map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
            {google}
            <PostForm action=Login::PATH novalidate=true>
                <FormMessage state=state.clone() />
                <Field name="email" label="Email" kind="email" autocomplete="username" required=true state=state.clone() />
                <Field name="password" label="Password" kind="password" autocomplete="current-password" required=true state=state.clone() />
                <input type="hidden" name="next" value=next />
                <div class="form__row">
                    <label class="checkbox">
                        <input type="checkbox" name="remember" value="1" />
                        " Remember me for 30 days"
                    </label>
                    <a href="/forgot-password">"Forgot password?"</a>
                </div>
                <button class="button button--primary button--block" type="submit">"Sign in"</button>
            </PostForm>
            <p class="auth-card__alt">"New to Spacedly? " <a href="/register">"Create an account"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn LoginCodePage() -> impl IntoView {
    let state = FormState::of(form::CODE);
    let resent = FormState::of(form::RESEND_CODE);
    let pending = Resource::new(|| (), |_| pending_login());
    let remember = use_query_map().with_untracked(|q| q.get("remember").unwrap_or_default());
    view! {
        <Title text="Enter your sign-in code" />
        <AuthCard title="Check your email">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || {
                    let (state, resent, remember) = (state.clone(), resent.clone(), remember.clone());
                    Suspend::new(async move {
                        match pending.await {
                            Ok(Some(email)) => view! {
                                <p>"We sent a 6-digit code to " <strong>{email}</strong> ". It works for 5 minutes."</p>
                                <PostForm action=VerifyCode::PATH novalidate=true>
                                    <FormMessage state=state.clone() />
                                    <Field name="otp" label="Sign-in code" autocomplete="one-time-code" required=true autofocus=true state=state />
                                    <input type="hidden" name="remember" value=remember />
                                    <button class="button button--primary button--block" type="submit">"Sign in"</button>
                                </PostForm>
                                <PostForm action=ResendCode::PATH class="form form--inline">
                                    <FormMessage state=resent />
                                    <button class="button button--link" type="submit">"Send me a new code"</button>
                                </PostForm>
                            }.into_any(),
                            _ => view! {
                                <p>"No sign-in is waiting for a code. " <a href="/login">"Sign in again"</a></p>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </AuthCard>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let state = FormState::of(form::FORGOT);
    view! {
        <Title text="Reset your password" />
        <AuthCard title="Reset your password">
            <p>"Enter the email of your account and we will send you a link to choose a new password."</p>
            <PostForm action=ForgotPassword::PATH novalidate=true>
                <FormMessage state=state.clone() />
                <Field name="email" label="Email" kind="email" autocomplete="email" required=true state=state />
                <button class="button button--primary button--block" type="submit">"Send the link"</button>
            </PostForm>
            <p class="auth-card__alt"><a href="/login">"Back to sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let state = FormState::of(form::RESET);
    let token = use_query_map().with_untracked(|q| q.get("token").unwrap_or_default());
    view! {
        <Title text="Choose a new password" />
        <AuthCard title="Choose a new password">
            <PostForm action=ResetPassword::PATH novalidate=true>
                <FormMessage state=state.clone() />
                <input type="hidden" name="token" value=token />
                <Field
                    name="password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. Every session of your account will be signed out."
                    required=true
                    state=state
                />
                <button class="button button--primary button--block" type="submit">"Save the new password"</button>
            </PostForm>
            <p class="auth-card__alt"><a href="/forgot-password">"Ask for a new link"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let state = FormState::of(form::VERIFY);
    let token = use_query_map().with_untracked(|q| q.get("token").unwrap_or_default());
    let done = state.ok;
    view! {
        <Title text="Confirm your email" />
        <AuthCard title="Confirm your email">
            <FormMessage state=state />
            // A button, not an automatic request: mail scanners that open links must not confirm.
            {(!done).then(|| view! {
                <PostForm action=VerifyEmail::PATH>
                    <input type="hidden" name="token" value=token />
                    <button class="button button--primary button--block" type="submit">"Confirm my email address"</button>
                </PostForm>
            })}
            <p class="auth-card__alt"><a href="/dashboard">"Go to Spacedly"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    view! {
        <Title text="Settings" />
        <SignedInLayout title="Settings" me=me.clone()>
            <SettingsForms me=me />
        </SignedInLayout>
    }
    .into_any()
}

#[component]
fn SettingsForms(me: Me) -> impl IntoView {
    let profile = FormState::of(form::PROFILE);
    let two_factor = FormState::of(form::TWO_FACTOR);
    let password = FormState::of(form::PASSWORD);
    let week_start = profile
        .value("week_start")
        .unwrap_or_else(|| me.week_start.clone());
    let week_starts = [
        ("monday", "Monday"),
        ("sunday", "Sunday"),
        ("saturday", "Saturday"),
    ]
    .map(|(value, label)| {
        view! { <option value=value selected=week_start == value>{label}</option> }
    });
    // The zone list comes from chrono-tz, which only the server build has; this page is
    // rendered on the server only.
    #[cfg(feature = "ssr")]
    let zones = {
        let timezone = profile
            .value("timezone")
            .unwrap_or_else(|| me.timezone.clone());
        crate::timezones::names()
            .map(|z| {
                let selected = z == timezone;
                view! { <option value=z selected=selected>{z}</option> }
            })
            .collect_view()
    };
    #[cfg(not(feature = "ssr"))]
    let zones = ();
    let two_factor_on = me.two_factor_enabled;
    view! {
        <section class="panel" id="profile" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <PostForm action=UpdateProfile::PATH novalidate=true>
                <FormMessage state=profile.clone() />
                <Field name="name" label="Name" autocomplete="name" value=me.name.clone() required=true state=profile.clone() />
                <div class="field">
                    <label for="field-timezone">"Time zone"</label>
                    <select id="field-timezone" name="timezone">{zones}</select>
                </div>
                <div class="field" class:field--invalid=profile.field("week_start").is_some()>
                    <label for="field-week_start">"Weeks start on"</label>
                    <select id="field-week_start" name="week_start">{week_starts}</select>
                    {profile.field("week_start").map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
                </div>
                <button class="button button--primary" type="submit">"Save"</button>
            </PostForm>
        </section>
        <DigestSettings hour=me.digest_hour verified=me.email_verified />
        <crate::revision::RevisionSettings />
        <crate::calendar::CalendarFeed />
        <section class="panel" id="two-factor" aria-labelledby="security-title">
            <h2 id="security-title">"Two-factor sign-in"</h2>
            <p class="muted">"When it is on, each sign-in also needs a code we email to " {me.email.clone()} "."</p>
            <PostForm action=SetTwoFactor::PATH>
                <FormMessage state=two_factor />
                <fieldset class="radio-group">
                    <legend>"Emailed sign-in codes"</legend>
                    <label><input type="radio" name="enabled" value="on" checked=two_factor_on />" On"</label>
                    <label><input type="radio" name="enabled" value="off" checked=!two_factor_on />" Off"</label>
                </fieldset>
                <button class="button" type="submit">"Save"</button>
            </PostForm>
        </section>
        <section class="panel" id="password" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            {if me.has_password {
                view! {
                    <PostForm action=ChangePassword::PATH novalidate=true>
                        <FormMessage state=password.clone() />
                        <Field name="current_password" label="Current password" kind="password" autocomplete="current-password" required=true state=password.clone() />
                        <Field name="new_password" label="New password" kind="password" autocomplete="new-password" hint="At least 8 characters. Your other sessions will be signed out." required=true state=password />
                        <button class="button" type="submit">"Change password"</button>
                    </PostForm>
                }.into_any()
            } else {
                let state = FormState::of(form::SET_PASSWORD);
                view! {
                    <p class="muted">"You sign in with Google. Set a password to also sign in with your email."</p>
                    <PostForm action=SetPassword::PATH novalidate=true>
                        <FormMessage state=state.clone() />
                        <Field name="password" id="set-password" label="New password" kind="password" autocomplete="new-password" hint="At least 8 characters." required=true state=state />
                        <button class="button" type="submit">"Set password"</button>
                    </PostForm>
                }.into_any()
            }}
        </section>
        <ApiTokens />
        <section class="panel" id="sessions" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <SessionList />
            <p class="muted">"Lost a device? Sign out of Spacedly everywhere, this browser included."</p>
            <PostForm action=LogoutAll::PATH class="form form--inline">
                <button class="button button--danger" type="submit">"Sign out everywhere"</button>
            </PostForm>
        </section>
        <YourData has_password=me.has_password />
    }
}

/// The morning digest: on or off, and its hour in the user's time zone.
#[component]
fn DigestSettings(hour: i16, verified: bool) -> impl IntoView {
    let state = FormState::of(form::DIGEST);
    let hour = state
        .value("digest_hour")
        .unwrap_or_else(|| hour.to_string());
    let enabled = Resource::new(|| (), |_| digest_enabled());
    let hours = (0..24)
        .map(|h| {
            let selected = h.to_string() == hour;
            view! { <option value=h.to_string() selected=selected>{format!("{h:02}:00")}</option> }
        })
        .collect_view();
    let error = state.field("digest_hour");
    let invalid = error.is_some();
    view! {
        <section class="panel" id="digest" aria-labelledby="digest-title">
            <h2 id="digest-title">"Morning digest"</h2>
            <p class="muted">"One email a day at this hour, in your time zone, with the day's reminders and reviews, what is due and what is overdue. None on days with nothing to say."</p>
            {(!verified).then(|| view! { <p class="muted">"It starts once your email address is confirmed."</p> })}
            <PostForm action=SetDigest::PATH novalidate=true>
                <FormMessage state=state.clone() />
                <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let on = enabled.await.unwrap_or(true);
                        view! {
                            <label class="checkbox">
                                <input type="checkbox" name="digest" value="on" checked=on />
                                " Send me the morning digest"
                            </label>
                        }
                    })}
                </Suspense>
                <div class="field" class:field--invalid=invalid>
                    <label for="field-digest_hour">"Send it at"</label>
                    <select id="field-digest_hour" name="digest_hour">{hours}</select>
                    {error.map(|e| view! { <p class="field__error" role="alert">{e}</p> })}
                </div>
                <button class="button" type="submit">"Save"</button>
            </PostForm>
        </section>
    }
}

#[component]
fn SessionList() -> impl IntoView {
    let state = FormState::of(form::SESSIONS);
    let sessions = Resource::new(|| (), |_| list_sessions());
    view! {
        <FormMessage state=state />
        <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match sessions.await {
                    Ok(list) => view! {
                        <ul class="session-list">
                            {list.into_iter().map(|s| {
                                let label = format!("Sign out {}", s.device);
                                view! {
                                    <li class="session-list__item">
                                        <div>
                                            <strong>{s.device.clone()}</strong>
                                            {s.current.then(|| view! { <span class="badge">"This browser"</span> })}
                                            <br />
                                            <small class="muted">"Signed in " {s.signed_in}</small>
                                        </div>
                                        {(!s.current).then(|| view! {
                                            <PostForm action=RevokeSession::PATH class="form form--inline">
                                                <input type="hidden" name="id" value=s.id.clone() />
                                                <button class="button button--small" type="submit" aria-label=label.clone()>"Sign out"</button>
                                            </PostForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ApiTokens() -> impl IntoView {
    let state = FormState::of(form::TOKENS);
    let secret = page().secret;
    let tokens = Resource::new(|| (), |_| list_tokens());
    let expires = state
        .value("expires_in_days")
        .unwrap_or_else(|| "90".into());
    let options = [
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("365", "In a year"),
        ("never", "Never"),
    ]
    .into_iter()
    .map(|(value, label)| view! { <option value=value selected=value == expires>{label}</option> })
    .collect_view();
    view! {
        <section class="panel" id="tokens" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="muted">"Scripts and apps use these with " <code>"Authorization: Bearer …"</code> " to call the Spacedly API as you."</p>
            <FormMessage state=state.clone() />
            {secret.map(|s| view! {
                <div class="secret">
                    <label for="new-token">"Your new token"</label>
                    <input id="new-token" class="secret__value" readonly=true value=s />
                </div>
            })}
            <PostForm action=CreateToken::PATH novalidate=true>
                <Field name="name" id="token-name" label="Token name" hint="What will use it, e.g. “backup script”." required=true state=state.clone() />
                {page().me.is_some_and(|m| m.has_password).then(|| view! {
                    <Field
                        name="password"
                        id="token-password"
                        label="Current password"
                        kind="password"
                        autocomplete="current-password"
                        hint="Needed when you signed in more than 10 minutes ago."
                        state=state.clone()
                    />
                })}
                <div class="field">
                    <label for="field-expires_in_days">"Expires"</label>
                    <select id="field-expires_in_days" name="expires_in_days">{options}</select>
                </div>
                <button class="button" type="submit">"Create token"</button>
            </PostForm>
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="table tokens">
                                <caption class="visually-hidden">"Your API tokens"</caption>
                                <thead><tr>
                                    <th scope="col">"Name"</th><th scope="col">"Starts with"</th>
                                    <th scope="col">"Last used"</th><th scope="col">"Expires"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| {
                                        let label = format!("Revoke {}", t.name);
                                        view! {
                                            <tr>
                                                <td>{t.name.clone()}</td>
                                                <td><code>{t.prefix}"…"</code></td>
                                                <td>{t.last_used.unwrap_or_else(|| "Never".into())}</td>
                                                <td>{t.expires.unwrap_or_else(|| "Never".into())}</td>
                                                <td>
                                                    <PostForm action=RevokeToken::PATH class="form form--inline">
                                                        <input type="hidden" name="id" value=t.id />
                                                        <button class="button button--small button--danger" type="submit" aria-label=label>"Revoke"</button>
                                                    </PostForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn YourData(has_password: bool) -> impl IntoView {
    let state = FormState::of(form::DELETE);
    view! {
        <section class="panel" id="delete" aria-labelledby="data-title">
            <h2 id="data-title">"Your data"</h2>
            <p><a class="button" href="/api/user/export" download="spacedly-export.json">"Download my data (JSON)"</a></p>
            <h3>"Delete my account"</h3>
            <p class="muted">"This removes your account and everything in it, files included. It cannot be undone."</p>
            <PostForm action=DeleteAccount::PATH novalidate=true>
                <FormMessage state=state.clone() />
                {if has_password {
                    view! { <Field name="password" id="delete-password" label="Current password" kind="password" autocomplete="current-password" required=true state=state /> }.into_any()
                } else {
                    view! { <p class="muted">"Your account has no password: you need to have signed in within the last 10 minutes."</p> }.into_any()
                }}
                <button class="button button--danger" type="submit">"Delete my account"</button>
            </PostForm>
        </section>
    }
}
