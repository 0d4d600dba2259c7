import type { Change } from './change';
import { personaSegmentation } from './persona';
import { fullTextSearch } from './search';

/** Every change, in the order `etl migrate` applies them (and `--rollback` undoes them, last first). */
export const CHANGES: readonly Change[] = [personaSegmentation, fullTextSearch];
