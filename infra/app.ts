import { App } from 'aws-cdk-lib';
import { InvalidSettingsError, loadSettings, type Settings } from '../shared/config/settings.js';
import { InvalidDeploymentOptionError } from './deployment-options.js';
import { addSyncStacks } from './sync-app.js';

/**
 * CDK entry (`cdk.json` app). Settings come from the file named by SYNC_SETTINGS, else the
 * built-in defaults; a bad setting or context value stops here, naming it, before any template.
 */
function main(): void {
  let settings: Settings;
  try {
    // SYNC_SETTINGS_JSON is what the bundles read (compiled in); the CDK app reads the file only.
    settings = loadSettings(process.env.SYNC_SETTINGS, '');
    const app = new App();
    addSyncStacks(app, settings);
    app.synth();
  } catch (error) {
    if (error instanceof InvalidSettingsError || error instanceof InvalidDeploymentOptionError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

main();
