use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::layout::PublicLayout;

struct Feature {
    title: &'static str,
    text: &'static str,
}

const FEATURES: &[Feature] = &[
    Feature {
        title: "Real spaced repetition",
        text: "Every topic gets a memory model (FSRS). Tell Spacedly how well you remembered and it \
               schedules the next review at the moment you are about to forget, never after your deadline.",
    },
    Feature {
        title: "Reminders that arrive on time",
        text: "A morning digest and exact-time reminders by email and in the app, in your own time zone.",
    },
    Feature {
        title: "Your files, next to your topics",
        text: "Attach notes, slides and photos. Images are straightened, shrunk and stripped of location data.",
    },
    Feature {
        title: "See your consistency",
        text: "Streaks, weekly progress and the topics at risk of being forgotten, drawn as charts.",
    },
    Feature {
        title: "Yours to host",
        text: "One program and PostgreSQL. Your data stays on your server, and you can export all of it.",
    },
    Feature {
        title: "An API for your tools",
        text: "Everything in the app is also a JSON API, with personal access tokens for scripts.",
    },
];

#[component]
pub fn Landing() -> impl IntoView {
    let features = FEATURES
        .iter()
        .map(|f| {
            view! {
                <li class="feature">
                    <h3>{f.title}</h3>
                    <p>{f.text}</p>
                </li>
            }
        })
        .collect_view();
    let query = use_query_map();
    let deleted = move || query.read().get("account").as_deref() == Some("deleted");
    view! {
        <Title text="Remember what you learn" />
        <PublicLayout>
            <Show when=deleted>
                <p class="container notice notice--ok" role="status">
                    "Your account and all its data were deleted. Thank you for using Spacedly."
                </p>
            </Show>
            <section class="hero">
                <div class="container hero__inner">
                    <h1 class="hero__title">"Remember what you learn."</h1>
                    <p class="hero__lead">
                        "Spacedly is a task manager for people who learn. Add a topic or a task; "
                        "Spacedly decides when you should revisit it, reminds you, and shows how consistent you are."
                    </p>
                    <p class="hero__actions">
                        <a class="button button--primary" href="/register">"Start learning"</a>
                        <a class="button" href="/login">"Sign in"</a>
                    </p>
                    <div class="hero__review" aria-label="Example review">
                        <p class="hero__review-q">"How well did you remember “Fourier series”?"</p>
                        <ul class="rating-row">
                            <li class="rating rating--again">"Again" <small>"1 d"</small></li>
                            <li class="rating rating--hard">"Hard" <small>"3 d"</small></li>
                            <li class="rating rating--good">"Good" <small>"8 d"</small></li>
                            <li class="rating rating--easy">"Easy" <small>"21 d"</small></li>
                        </ul>
                    </div>
                </div>
            </section>
            <section id="features" class="container section" aria-labelledby="features-title">
                <h2 id="features-title">"Everything a learner needs, nothing in the way"</h2>
                <ul class="feature-grid">{features}</ul>
            </section>
            <section id="how-it-works" class="container section" aria-labelledby="how-title">
                <h2 id="how-title">"How it works"</h2>
                <ol class="steps">
                    <li>
                        <h3>"Add what you are learning"</h3>
                        <p>"A topic, a chapter, a task with a deadline — with links and files."</p>
                    </li>
                    <li>
                        <h3>"Review when Spacedly asks"</h3>
                        <p>"Each review takes seconds: recall, then rate how it went (keys 1 to 4)."</p>
                    </li>
                    <li>
                        <h3>"Watch it stick"</h3>
                        <p>"Intervals grow as your memory does; your streak and charts show the habit."</p>
                    </li>
                </ol>
            </section>
        </PublicLayout>
    }
}
