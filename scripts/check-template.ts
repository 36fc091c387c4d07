/**
 * Checks a SAM/CloudFormation template (default: template.yaml) and prints one finding per
 * line: `<severity> [<check>] <where>: <message>`. Exits with 1 if any finding is an error.
 *
 * Usage: npm run check [-- path/to/template.yaml]
 */
import { checkTemplate } from '../local/check/index.js';

const path = process.argv[2] ?? 'template.yaml';
const findings = checkTemplate(path);
for (const { severity, check, where, message } of findings) console.log(`${severity} [${check}] ${where}: ${message}`);
const errors = findings.filter((finding) => finding.severity === 'error').length;
console.log(`${path}: ${errors} error(s), ${findings.length - errors} warning(s)`);
process.exitCode = errors > 0 ? 1 : 0;
