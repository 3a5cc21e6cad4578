//! The simulated middleware methods: dispatch by name and version, one module per namespace.

pub mod core;
pub mod dataset;
pub mod keychain;
pub mod replication;
pub mod schema;
pub mod service;
pub mod snapshot;
pub mod snapshottask;
pub mod system;
pub mod user;

use std::path::PathBuf;

use serde_json::Value;

use super::errors::SimError;
use super::state::SimState;
use super::version::Personality;

/// What a method sees: the system's state, its version and the fleet directory.
pub struct Ctx<'a> {
    pub state: &'a mut SimState,
    pub p: Personality,
    /// The directory of the fleet's state files (to find other systems), if any.
    pub fleet_dir: Option<PathBuf>,
}

impl<'a> Ctx<'a> {
    pub fn new(state: &'a mut SimState, fleet_dir: Option<PathBuf>) -> Ctx<'a> {
        let p = state.personality();
        Ctx {
            state,
            p,
            fleet_dir,
        }
    }
}

pub type MResult = Result<Value, SimError>;

/// Methods that are jobs (midclt prints their id).
pub fn is_job_method(p: Personality, method: &str) -> bool {
    method == "replication.run" || (method == "service.control" && p.has_service_control())
}

/// Runs one method with its positional arguments.
pub fn call(ctx: &mut Ctx<'_>, method: &str, args: Vec<Value>) -> MResult {
    let p = ctx.p;
    let _wording = schema::wording_of(p);
    let snap_ns = p.snapshot_namespace();
    // 25.10 keeps `zfs.snapshot.*` as private methods that still run.
    let snapshot_method = method
        .strip_prefix("pool.snapshot.")
        .filter(|_| snap_ns == "pool.snapshot")
        .or_else(|| method.strip_prefix("zfs.snapshot."));
    if let Some(m) = snapshot_method {
        return snapshot::call(ctx, method, m, args);
    }
    match method {
        "system.version" => system::version(ctx, args),
        "system.version_short" if p.has_version_short() => system::version_short(ctx, args),
        "system.info" => system::info(ctx, args),
        "system.product_type" => system::product_type(ctx, args),
        // plugins/system/info.py: SCALE only (CORE has no `system.hostname`).
        "system.hostname" if !p.is_core() => system::hostname(ctx, args),
        "system.boot_id" => system::boot_id(ctx, args),
        "system.host_id" => system::host_id(ctx, args),
        "system.build_time" => system::build_time(ctx, args),
        "system.feature_enabled" => system::feature_enabled(ctx, args),
        // plugins/system.py (13.3), plugins/system/product.py (24.04); gone from 24.10.
        "system.environment" if p <= Personality::V2404 => system::environment(ctx, args),
        "system.product_name" if p <= Personality::V2404 => system::product_name(ctx, args),
        "system.ready" => system::ready(ctx, args),
        "system.state" => system::sys_state(ctx, args),
        "core.ping" => core::ping(ctx, args),
        "core.get_jobs" => core::get_jobs(ctx, args),
        "core.job_abort" => core::job_abort(ctx, args),
        "pool.dataset.query" => dataset::query(ctx, args),
        "pool.dataset.get_instance" => dataset::get_instance(ctx, args),
        "pool.dataset.update" => dataset::update(ctx, args),
        "pool.snapshottask.query" => snapshottask::query(ctx, args),
        "pool.snapshottask.get_instance" => snapshottask::get_instance(ctx, args),
        "pool.snapshottask.create" => snapshottask::create(ctx, args),
        "pool.snapshottask.update" => snapshottask::update(ctx, args),
        "pool.snapshottask.delete" => snapshottask::delete(ctx, args),
        "pool.snapshottask.run" => snapshottask::run(ctx, args),
        // plugins/snapshot_/task_retention.py: SCALE only.
        "pool.snapshottask.update_will_change_retention_for" if !p.is_core() => {
            snapshottask::will_change_retention_for(ctx, args, true)
        }
        "pool.snapshottask.delete_will_change_retention_for" if !p.is_core() => {
            snapshottask::will_change_retention_for(ctx, args, false)
        }
        "pool.snapshottask.max_count" => Ok(Value::from(512)),
        "pool.snapshottask.max_total_count" => Ok(Value::from(10000)),
        "replication.query" => replication::query(ctx, args),
        "replication.get_instance" => replication::get_instance(ctx, args),
        "replication.create" => replication::create(ctx, args),
        "replication.update" => replication::update(ctx, args),
        "replication.delete" => replication::delete(ctx, args),
        "replication.run" => replication::run(ctx, args),
        "replication.list_datasets" => replication::list_datasets(ctx, args),
        "replication.list_naming_schemas" => replication::list_naming_schemas(ctx, args),
        "replication.count_eligible_manual_snapshots" => {
            replication::count_eligible_manual_snapshots(ctx, args)
        }
        "replication.target_unmatched_snapshots" => {
            replication::target_unmatched_snapshots(ctx, args)
        }
        "service.query" => service::query(ctx, args),
        "service.get_instance" => service::get_instance(ctx, args),
        "service.update" => service::update(ctx, args),
        "service.start" | "service.stop" | "service.restart" | "service.reload" => {
            let verb = method.trim_start_matches("service.");
            service::start_stop(ctx, verb, args)
        }
        "service.control" if p.has_service_control() => service::control(ctx, args),
        "ssh.config" => service::ssh_config(ctx, args),
        "keychaincredential.query" => keychain::query(ctx, args),
        "keychaincredential.get_instance" => keychain::get_instance(ctx, args),
        "keychaincredential.create" => keychain::create(ctx, args),
        "keychaincredential.update" => keychain::update(ctx, args),
        "keychaincredential.delete" => keychain::delete(ctx, args),
        "keychaincredential.generate_ssh_key_pair" => keychain::generate_ssh_key_pair(ctx, args),
        // plugins/keychain_/ssh_connections.py: SCALE only.
        "keychaincredential.setup_ssh_connection" if !p.is_core() => {
            keychain::setup_ssh_connection(ctx, args)
        }
        "keychaincredential.remote_ssh_host_key_scan" => {
            keychain::remote_ssh_host_key_scan(ctx, args)
        }
        "user.query" => user::query(ctx, args),
        "user.get_instance" => user::get_instance(ctx, args),
        "user.update" => user::update(ctx, args),
        _ => Err(SimError::NoMethod {
            method: method.to_string(),
        }),
    }
}

/// Too many positional arguments: a validation error on 25.10, a CallError before.
pub fn check_arg_count(p: Personality, args: &[Value], max: usize) -> Result<(), SimError> {
    if args.len() <= max {
        return Ok(());
    }
    let msg = format!("Too many arguments (expected {max}, found {})", args.len());
    if p.too_many_args_is_validation() {
        Err(SimError::Validation(vec![super::errors::VErr::new(
            "", msg,
        )]))
    } else {
        Err(SimError::efault(msg))
    }
}

/// Another system of the fleet, found by hostname or address among the state files beside
/// this one.
pub fn find_system(ctx: &Ctx<'_>, host: &str) -> Option<SimState> {
    if host == ctx.state.system.hostname || ctx.state.system.addresses.iter().any(|a| a == host) {
        return Some(ctx.state.clone());
    }
    let file = super::find_system_file(ctx.fleet_dir.as_ref()?, host)?;
    super::load(&file).ok()
}
