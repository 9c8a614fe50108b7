//! Cost of one request through the service token gate, next to the same app without the gate.
//!
//! Each benchmark sends a `GET` with an `X-Service-Token` header through an app built by
//! `actix_web::test::init_service`, whose only route returns an empty 200 response. The requests
//! are built outside the timed loop, and the responses are dropped outside it, so the time
//! covers routing, the gate and the handler. No logger is installed, so the warn lines of
//! rejections cost only a check of the log level.
//!
//! Run with `cargo bench -p service-token-gate --bench gate`.

use std::time::Duration;

use actix_rt::{System, SystemRunner};
use actix_web::{
    App, HttpResponse,
    body::MessageBody,
    dev::{Service, ServiceResponse},
    http::{StatusCode, header::HeaderValue},
    test::{self, TestRequest},
    web,
};
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, async_executor::AsyncExecutor, criterion_group,
    criterion_main, measurement::WallTime,
};
use service_token_gate::{DEFAULT_HEADER_NAME, GateConfig, ServiceTokenGate};

const PATH: &str = "/internal/jobs";

/// Tokens configured in the five-token gate. The one-token gate accepts only the first.
const TOKENS: [&str; 5] = [
    "bench-token-1-k3Jx9QvT2mLp8ZrW5nYb7HcD4fGs",
    "bench-token-2-Vq7Lm2Nx8Rb4Kt6Wz3Ys9Pd5Hf1J",
    "bench-token-3-Zc5Tn8Bq2Xv7Mk4Rw9Jy3Ls6Df1G",
    "bench-token-4-Hp4Wd9Ks3Nz7Qb2Vx6Tm8Lr5Jc1F",
    "bench-token-5-Rt8Yb3Mv6Kq9Xn2Wd5Zs7Hj4Lp1C",
];

/// A token of the same length as the configured ones that matches none of them.
const WRONG_TOKEN: &str = "bench-token-0-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9S";

/// Requests per timed batch. An actix-web 4.18 app keeps up to 128 finished requests for reuse,
/// and a batch keeps its responses until it ends, so a batch of 64 never empties that pool.
const BATCH: u64 = 64;

/// Runs criterion's async loop inside one actix system, which is where actix-web runs its
/// services. Criterion enters `block_on` once per sample, not once per request.
struct ActixExecutor(SystemRunner);

impl ActixExecutor {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

impl AsyncExecutor for &ActixExecutor {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        ActixExecutor::block_on(self, future)
    }
}

async fn ok() -> HttpResponse {
    HttpResponse::Ok().finish()
}

fn gate(tokens: &[&str]) -> ServiceTokenGate {
    let config = if tokens.is_empty() {
        GateConfig::disabled()
    } else {
        GateConfig::with_tokens(tokens.iter().copied()).expect("benchmark tokens are valid")
    };
    ServiceTokenGate::new(config)
}

/// Sends one request first to check that the app returns `expected`, then benchmarks it.
fn bench_request<S, B, R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    executor: &ActixExecutor,
    name: &str,
    app: &S,
    make_request: impl Fn() -> R,
    expected: StatusCode,
) where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = executor.block_on(test::call_service(app, make_request()));
    assert_eq!(
        response.status(),
        expected,
        "benchmark {name} got the wrong status, so it would measure the wrong path"
    );
    drop(response);

    group.bench_function(name, |bencher| {
        bencher.to_async(executor).iter_batched(
            &make_request,
            |request| test::call_service(app, request),
            BatchSize::NumIterations(BATCH),
        );
    });
}

fn gated_request(c: &mut Criterion) {
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "a logger is installed, so rejections would write log lines during the benchmark"
    );

    let executor = ActixExecutor(System::new());
    let route = || web::resource(PATH).route(web::get().to(ok));

    let no_gate = executor.block_on(test::init_service(App::new().service(route())));
    let disabled = executor.block_on(test::init_service(
        App::new().wrap(gate(&[])).service(route()),
    ));
    let one_token = executor.block_on(test::init_service(
        App::new().wrap(gate(&TOKENS[..1])).service(route()),
    ));
    let five_tokens = executor.block_on(test::init_service(
        App::new().wrap(gate(&TOKENS)).service(route()),
    ));

    let mut group = c.benchmark_group("gated_request");
    let accepted = StatusCode::OK;
    let rejected = StatusCode::UNAUTHORIZED;
    let last = TOKENS[TOKENS.len() - 1];
    // The request type is actix-http's `Request`, which actix-web does not re-export, so a
    // closure lets the compiler infer it.
    let request = |token: &'static str| {
        move || {
            TestRequest::get()
                .uri(PATH)
                .insert_header((DEFAULT_HEADER_NAME, HeaderValue::from_static(token)))
                .to_request()
        }
    };

    bench_request(
        &mut group,
        &executor,
        "no_gate",
        &no_gate,
        request(TOKENS[0]),
        accepted,
    );
    bench_request(
        &mut group,
        &executor,
        "disabled",
        &disabled,
        request(TOKENS[0]),
        accepted,
    );
    bench_request(
        &mut group,
        &executor,
        "1_token_accepted",
        &one_token,
        request(TOKENS[0]),
        accepted,
    );
    bench_request(
        &mut group,
        &executor,
        "1_token_rejected",
        &one_token,
        request(WRONG_TOKEN),
        rejected,
    );
    bench_request(
        &mut group,
        &executor,
        "5_tokens_accepted",
        &five_tokens,
        request(last),
        accepted,
    );
    bench_request(
        &mut group,
        &executor,
        "5_tokens_rejected",
        &five_tokens,
        request(WRONG_TOKEN),
        rejected,
    );

    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = gated_request
}
criterion_main!(benches);
