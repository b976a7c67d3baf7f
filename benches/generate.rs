//! How long `generate` and `check` take on the default spec: parse and
//! validate the spec, render every file, and compare with the tree on disk.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use vnetgen::spec::Spec;

fn bench(c: &mut Criterion) {
    let out = tempfile::tempdir().expect("temporary directory");
    let spec = Spec::default_spec().expect("default spec");
    vnetgen::generate(&spec, out.path(), false).expect("first generate");

    c.bench_function("parse default spec", |b| {
        b.iter(|| Spec::default_spec().expect("spec"))
    });
    c.bench_function("render default spec", |b| {
        b.iter(|| vnetgen::gen::render::render(black_box(&spec)).expect("render"))
    });
    // The whole command: parse, render, compare, write nothing.
    c.bench_function("generate (no change)", |b| {
        b.iter(|| {
            let spec = Spec::default_spec().expect("spec");
            vnetgen::generate(&spec, out.path(), false).expect("generate")
        })
    });
    c.bench_function("check (up to date)", |b| {
        b.iter(|| {
            let spec = Spec::default_spec().expect("spec");
            vnetgen::check(&spec, out.path()).expect("check")
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
