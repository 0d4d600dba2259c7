/**
 * The date an application row gets where the app needs one and the source has none: when the run
 * that first wrote its canonical row started (naive UTC, as the apps write their TIMESTAMP
 * columns). It is recorded once in etl_runs, so a rerun or a resumed run gives the same value:
 * never the clock at projection time. `alias` is the canonical row.
 */
export const firstWritten = (alias: string): string => `(select r.started_at at time zone 'UTC' from etl.etl_runs r where r.id = ${alias}.etl_run_id)`;
