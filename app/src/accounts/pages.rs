//! Sign-up, sign-in (and its code step), password reset, email confirmation, and settings.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use super::*;
use crate::{
    components::layout::{AuthCard, SignedInLayout},
    forms::{latest, Field, FormMessage},
};

/// The browser's IANA time zone, once hydrated (the server cannot know it).
fn browser_time_zone() -> Signal<String> {
    let (tz, set_tz) = signal(String::new());
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        {
            let options =
                js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                    .resolved_options();
            if let Ok(zone) = js_sys::Reflect::get(&options, &"timeZone".into()) {
                if let Some(zone) = zone.as_string() {
                    set_tz.set(zone);
                }
            }
        }
        let _ = set_tz;
    });
    tz.into()
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let result = latest(action.value());
    let tz = browser_time_zone();
    view! {
        <Title text="Create your account" />
        <AuthCard title="Create your account">
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormMessage result=result />
                <Field name="name" label="Name" autocomplete="name" required=true result=result />
                <Field name="email" label="Email" kind="email" autocomplete="email" required=true result=result />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. Long phrases are easy to remember and hard to guess."
                    required=true
                    result=result
                />
                <input type="hidden" name="timezone" prop:value=tz />
                <button class="button button--primary button--block" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating your account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p class="auth-card__alt">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let result = latest(action.value());
    let query = use_query_map();
    let notice = move || {
        let q = query.read();
        if q.get("reset").is_some() {
            Some("Your password has been reset. Sign in with the new one.")
        } else if q.get("signed_out").as_deref() == Some("all") {
            Some("You were signed out on every device.")
        } else if q.get("signed_out").is_some() {
            Some("You are signed out.")
        } else {
            None
        }
    };
    let next = move || query.read().get("next");
    let error = move || {
        query
            .read()
            .get("error")
            .and_then(|e| login_error_message(&e))
    };
    let google = Resource::new(|| (), |_| sign_in_options());
    view! {
        <Title text="Sign in" />
        <AuthCard title="Sign in">
            {move || notice().map(|n| view! { <p class="notice notice--ok" role="status">{n}</p> })}
            {move || error().map(|e| view! { <p class="notice notice--error" role="alert">{e}</p> })}
            <Suspense>
                {move || Suspend::new(async move {
                    google.await.ok().filter(|on| *on).map(|_| view! {
                        // rel=external: a full navigation to the server, not a client-side route.
                        <a class="button button--block button--google" href="/api/auth/google" rel="external">
                            "Continue with Google"
                        </a>
                        <p class="divider"><span>"or with your email"</span></p>
                    })
                })}
            </Suspense>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormMessage result=result />
                <Field name="email" label="Email" kind="email" autocomplete="username" required=true result=result />
                <Field name="password" label="Password" kind="password" autocomplete="current-password" required=true result=result />
                <input type="hidden" name="next" prop:value=next />
                <div class="form__row">
                    <label class="checkbox">
                        <input type="checkbox" name="remember" value="1" />
                        " Remember me for 30 days"
                    </label>
                    <a href="/forgot-password">"Forgot password?"</a>
                </div>
                <button class="button button--primary button--block" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="auth-card__alt">"New to Spacedly? " <a href="/register">"Create an account"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn LoginCodePage() -> impl IntoView {
    let verify = ServerAction::<VerifyCode>::new();
    let resend = ServerAction::<ResendCode>::new();
    let result = latest(verify.value());
    let resent = latest(resend.value());
    let pending = Resource::new(|| (), |_| pending_login());
    let query = use_query_map();
    let remember = move || query.read().get("remember");
    view! {
        <Title text="Enter your sign-in code" />
        <AuthCard title="Check your email">
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(Some(email)) => view! {
                            <p>"We sent a 6-digit code to " <strong>{email}</strong> ". It works for 5 minutes."</p>
                            <ActionForm action=verify attr:class="form" attr:novalidate=true>
                                <FormMessage result=result />
                                <Field name="otp" label="Sign-in code" autocomplete="one-time-code" required=true result=result />
                                <input type="hidden" name="remember" prop:value=remember />
                                <button class="button button--primary button--block" type="submit" disabled=move || verify.pending().get()>
                                    "Sign in"
                                </button>
                            </ActionForm>
                            <ActionForm action=resend attr:class="form form--inline">
                                <FormMessage result=resent />
                                <button class="button button--link" type="submit">"Send me a new code"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => view! {
                            <p>"No sign-in is waiting for a code. " <a href="/login">"Sign in again"</a></p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </AuthCard>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<ForgotPassword>::new();
    let result = latest(action.value());
    view! {
        <Title text="Reset your password" />
        <AuthCard title="Reset your password">
            <p>"Enter the email of your account and we will send you a link to choose a new password."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormMessage result=result />
                <Field name="email" label="Email" kind="email" autocomplete="email" required=true result=result />
                <button class="button button--primary button--block" type="submit" disabled=move || action.pending().get()>
                    "Send the link"
                </button>
            </ActionForm>
            <p class="auth-card__alt"><a href="/login">"Back to sign in"</a></p>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let result = latest(action.value());
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Choose a new password" />
        <AuthCard title="Choose a new password">
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormMessage result=result />
                <input type="hidden" name="token" prop:value=token />
                <Field
                    name="password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 8 characters. Every session of your account will be signed out."
                    required=true
                    result=result
                />
                <button class="button button--primary button--block" type="submit" disabled=move || action.pending().get()>
                    "Save the new password"
                </button>
            </ActionForm>
        </AuthCard>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let action = ServerAction::<VerifyEmail>::new();
    let result = latest(action.value());
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Confirm your email" />
        <AuthCard title="Confirm your email">
            // A button, not an automatic request: mail scanners that open links must not confirm.
            <ActionForm action=action attr:class="form">
                <FormMessage result=result />
                <input type="hidden" name="token" prop:value=token />
                <button class="button button--primary button--block" type="submit" disabled=move || action.pending().get()>
                    "Confirm my email address"
                </button>
            </ActionForm>
            <p class="auth-card__alt"><a href="/dashboard">"Go to Spacedly"</a></p>
        </AuthCard>
    }
}

/// Renders `children` with the signed-in user, or sends the visitor to sign in.
#[component]
pub fn RequireUser<F, V>(title: &'static str, children: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! {
                            <Title text=title />
                            <SignedInLayout title=title me=me.clone()>{children(me)}</SignedInLayout>
                        }.into_any(),
                        Ok(None) => view! { <Redirect path="/login" /> }.into_any(),
                        Err(e) => view! {
                            <p role="alert">{crate::forms::server_error_message(&e)}</p>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <RequireUser title="Dashboard" children=|me: Me| view! {
            <section class="panel">
                <h2>"Welcome, " {me.name}</h2>
                <p class="muted">
                    "Your topics, reviews and reminders will appear here. Your reminders are sent in "
                    {me.timezone} " time, with the morning digest at " {format!("{:02}:00", me.digest_hour)} "."
                </p>
                <p><a class="button" href="/settings">"Open settings"</a></p>
            </section>
        } />
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <RequireUser title="Settings" children=|me: Me| view! { <SettingsForms me=me /> } /> }
}

#[component]
fn SettingsForms(me: Me) -> impl IntoView {
    let profile = ServerAction::<UpdateProfile>::new();
    let profile_result = latest(profile.value());
    let two_factor = ServerAction::<SetTwoFactor>::new();
    let two_factor_result = latest(two_factor.value());
    let password = ServerAction::<ChangePassword>::new();
    let password_result = latest(password.value());
    let logout_all = ServerAction::<LogoutAll>::new();
    let hours = (0..24)
        .map(|h| {
            let selected = h == me.digest_hour;
            view! { <option value=h.to_string() selected=selected>{format!("{h:02}:00")}</option> }
        })
        .collect_view();
    let zones = chrono_tz_names()
        .iter()
        .map(|z| {
            let selected = *z == me.timezone;
            view! { <option value=*z selected=selected>{*z}</option> }
        })
        .collect_view();
    let two_factor_on = me.two_factor_enabled;
    view! {
        <section class="panel" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <ActionForm action=profile attr:class="form" attr:novalidate=true>
                <FormMessage result=profile_result />
                <Field name="name" label="Name" autocomplete="name" value=me.name.clone() required=true result=profile_result />
                <div class="field">
                    <label for="field-timezone">"Time zone"</label>
                    <select id="field-timezone" name="timezone">{zones}</select>
                </div>
                <div class="field">
                    <label for="field-digest_hour">"Morning digest at"</label>
                    <select id="field-digest_hour" name="digest_hour">{hours}</select>
                </div>
                <button class="button button--primary" type="submit" disabled=move || profile.pending().get()>"Save"</button>
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="security-title">
            <h2 id="security-title">"Two-factor sign-in"</h2>
            <p class="muted">"When it is on, each sign-in also needs a code we email to " {me.email.clone()} "."</p>
            <ActionForm action=two_factor attr:class="form">
                <FormMessage result=two_factor_result />
                <fieldset class="radio-group">
                    <legend>"Emailed sign-in codes"</legend>
                    <label><input type="radio" name="enabled" value="on" checked=two_factor_on />" On"</label>
                    <label><input type="radio" name="enabled" value="off" checked=!two_factor_on />" Off"</label>
                </fieldset>
                <button class="button" type="submit">"Save"</button>
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            {if me.has_password { ().into_any() } else { view! { <SetPasswordForm /> }.into_any() }}
            <ActionForm action=password attr:class="form" attr:novalidate=true attr:hidden=!me.has_password>
                <FormMessage result=password_result />
                <Field name="current_password" label="Current password" kind="password" autocomplete="current-password" required=true result=password_result />
                <Field name="new_password" label="New password" kind="password" autocomplete="new-password" hint="At least 8 characters. Your other sessions will be signed out." required=true result=password_result />
                <button class="button" type="submit" disabled=move || password.pending().get()>"Change password"</button>
            </ActionForm>
        </section>
        <ApiTokens />
        <section class="panel" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <SessionList />
            <p class="muted">"Lost a device? Sign out of Spacedly everywhere, this browser included."</p>
            <ActionForm action=logout_all>
                <button class="button button--danger" type="submit">"Sign out everywhere"</button>
            </ActionForm>
        </section>
        <YourData has_password=me.has_password />
    }
}

#[component]
fn SessionList() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoked = latest(revoke.value());
    let sessions = Resource::new(move || revoke.version().get(), |_| list_sessions());
    view! {
        <FormMessage result=revoked />
        <Transition fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
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
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="id" value=s.id.clone() />
                                                <button class="button button--small" type="submit" aria-label=label.clone()>"Sign out"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SetPasswordForm() -> impl IntoView {
    let action = ServerAction::<SetPassword>::new();
    let result = latest(action.value());
    view! {
        <p class="muted">"You sign in with Google. Set a password to also sign in with your email."</p>
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            <FormMessage result=result />
            <Field name="password" id="set-password" label="New password" kind="password" autocomplete="new-password" hint="At least 8 characters." required=true result=result />
            <button class="button" type="submit" disabled=move || action.pending().get()>"Set password"</button>
        </ActionForm>
    }
}

#[component]
fn ApiTokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let created = create.value();
    let create_result = Signal::derive(move || {
        created.get().map(|r| match r {
            Ok(t) => t.result,
            Err(e) => crate::forms::FormResult {
                ok: false,
                message: crate::forms::server_error_message(&e),
                ..Default::default()
            },
        })
    });
    let secret = move || created.get().and_then(|r| r.ok()).and_then(|t| t.secret);
    let revoked = latest(revoke.value());
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    view! {
        <section class="panel" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="muted">"Scripts and apps use these with " <code>"Authorization: Bearer …"</code> " to call the Spacedly API as you."</p>
            <ActionForm action=create attr:class="form" attr:novalidate=true>
                <FormMessage result=create_result />
                {move || secret().map(|s| view! {
                    <div class="secret">
                        <label for="new-token">"Your new token"</label>
                        <input id="new-token" class="secret__value" readonly=true value=s />
                    </div>
                })}
                <Field name="name" id="token-name" label="Token name" hint="What will use it, e.g. “backup script”." required=true result=create_result />
                <div class="field">
                    <label for="field-expires_in_days">"Expires"</label>
                    <select id="field-expires_in_days" name="expires_in_days">
                        <option value="30">"In 30 days"</option>
                        <option value="90" selected=true>"In 90 days"</option>
                        <option value="365">"In a year"</option>
                        <option value="never">"Never"</option>
                    </select>
                </div>
                <button class="button" type="submit" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
            <FormMessage result=revoked />
            <Transition fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
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
                                                    <ActionForm action=revoke>
                                                        <input type="hidden" name="id" value=t.id />
                                                        <button class="button button--small button--danger" type="submit" aria-label=label>"Revoke"</button>
                                                    </ActionForm>
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
            </Transition>
        </section>
    }
}

#[component]
fn YourData(has_password: bool) -> impl IntoView {
    let delete = ServerAction::<DeleteAccount>::new();
    let result = latest(delete.value());
    view! {
        <section class="panel" aria-labelledby="data-title">
            <h2 id="data-title">"Your data"</h2>
            <p><a class="button" href="/api/user/export" download="spacedly-export.json">"Download my data (JSON)"</a></p>
            <h3>"Delete my account"</h3>
            <p class="muted">"This removes your account and everything in it, files included. It cannot be undone."</p>
            <ActionForm action=delete attr:class="form" attr:novalidate=true>
                <FormMessage result=result />
                {if has_password {
                    view! { <Field name="password" id="delete-password" label="Current password" kind="password" autocomplete="current-password" required=true result=result /> }.into_any()
                } else {
                    view! { <p class="muted">"Your account has no password: you need to have signed in within the last 10 minutes."</p> }.into_any()
                }}
                <button class="button button--danger" type="submit" disabled=move || delete.pending().get()>"Delete my account"</button>
            </ActionForm>
        </section>
    }
}

/// The IANA time zone names offered in settings.
fn chrono_tz_names() -> &'static [&'static str] {
    crate::timezones::NAMES
}
