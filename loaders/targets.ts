import { EtlError } from '../src/errors';
import { chatcoreTarget } from './chatcore';
import { etlTarget } from './etl';
import { itlTarget } from './itl';
import { mulInOneTarget } from './mul-in-one';
import { type Target, TARGET_NAMES, type TargetName } from './target';

/** Every target `--target` knows; a new one is a folder in loaders/ plus a line here. */
export const TARGETS: Readonly<Record<TargetName, Target>> = { etl: etlTarget, chatcore: chatcoreTarget, 'mul-in-one': mulInOneTarget, itl: itlTarget };

export function targetFor(name: string): Target {
  if (!(TARGET_NAMES as readonly string[]).includes(name)) throw new EtlError('USAGE', `Unknown target "${name}"; choose one of: ${TARGET_NAMES.join(', ')}.`);
  return TARGETS[name as TargetName];
}
