import { basename, dirname } from 'node:path';
import type { Page } from '@playwright/test';

/**
 * The host server's file picker, a popup window on its own origin (src/main/server/picker.ts):
 * what the user does in it. The app's page cannot script this window; the test drives it as the
 * user would.
 */
export class PickerPage {
  constructor(readonly popup: Page) {}

  /** Goes to the file's folder (typed in the location box), selects the file and uses it. */
  async choose(file: string): Promise<void> {
    await this.popup.getByTestId('picker-location').fill(dirname(file));
    await this.popup.getByTestId('picker-go').click();
    const item = this.popup.getByLabel(basename(file), { exact: true });
    // Kernels and the like may not match the picker's filter for their purpose.
    if ((await item.count()) === 0) await this.popup.getByTestId('picker-all').click();
    await item.check();
    await this.popup.getByTestId('picker-use').click();
  }

  /** Goes to a folder (typed in the location box), checks what it offers and shares it. */
  async shareFolder(dir: string): Promise<void> {
    await this.popup.getByTestId('picker-location').fill(dir);
    await this.popup.getByTestId('picker-go').click();
    await this.popup.getByTestId('picker-use').click();
  }

  /** Opens the picker by clicking `button` in the app, and chooses `file` in it. */
  static async pick(page: Page, button: string, file: string): Promise<void> {
    const opened = page.waitForEvent('popup');
    await page.getByTestId(button).click();
    await new PickerPage(await opened).choose(file);
  }
}
