/**
 * Packs a pretrained starter model (seed/starter/pretrain.ts) into seed/starter/model/, the copy
 * Parley ships and installs on first use (server/ml/starter.ts).
 *
 *   npx tsx seed/starter/pack.ts BUILD_DIR
 */
import { packStarterModel, STARTER_PACKAGE_DIR } from '../../server/ml/starter.js';

const buildDir = process.argv[2];
if (!buildDir) throw new Error('usage: npx tsx seed/starter/pack.ts BUILD_DIR');
await packStarterModel(buildDir);
console.log(`packed ${buildDir} into ${STARTER_PACKAGE_DIR}`);
