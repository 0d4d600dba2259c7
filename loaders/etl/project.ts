/** The etl target's tables are the canonical tables: nothing to project. */
import type { ProjectionCounts } from '../target';

export async function project(): Promise<ProjectionCounts[]> {
  return [];
}
