import { EtlError } from '../src/errors';
import { jsonSeedsExtractor } from './json-seeds';
import { lowdbExtractor } from './lowdb';
import { tinydbExtractor } from './tinydb';
import { yamlPersonasExtractor } from './yaml-personas';
import type { Extractor } from './types';

/** Every pipeline `etl run` knows; a new legacy format is one file in extractors/ plus a line here. */
export const EXTRACTORS: readonly Extractor[] = [tinydbExtractor, yamlPersonasExtractor, jsonSeedsExtractor, lowdbExtractor];

export function extractorFor(name: string): Extractor {
  const found = EXTRACTORS.find((e) => e.name === name);
  if (!found) throw new EtlError('USAGE', `Unknown pipeline "${name}"; choose one of: ${EXTRACTORS.map((e) => e.name).join(', ')}.`);
  return found;
}
