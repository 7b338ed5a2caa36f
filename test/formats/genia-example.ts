/** The paper's GENIA sentence (Listing 2) and its three entities, shared by the format tests. */
import { makeEntity } from '../../lib/formats/index.ts';

export const TEXT = 'These results suggest that BCL6 plays a role in activated lymphocytes as an immediate early gene.';
export const TYPES = ['cell_line', 'protein', 'RNA', 'DNA', 'cell_type'] as const;
export const BCL6 = makeEntity(TEXT, 'protein', [[27, 31]]);
export const ACTIVATED_LYMPHOCYTES = makeEntity(TEXT, 'cell_type', [[48, 69]]);
export const LYMPHOCYTES = makeEntity(TEXT, 'cell_type', [[58, 69]]);
/** In the paper's listing order, not text order: rendering must sort them. */
export const ENTITIES = [ACTIVATED_LYMPHOCYTES, BCL6, LYMPHOCYTES];
export const IN_TEXT_ORDER = [BCL6, ACTIVATED_LYMPHOCYTES, LYMPHOCYTES];
