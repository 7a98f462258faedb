import { expect, type Page } from '@playwright/test';

export class DetailPage {
  constructor(readonly page: Page) {}

  private id(testId: string) {
    return this.page.getByTestId(testId);
  }

  async vmId(): Promise<string> {
    const m = /#\/vm\/([a-z0-9]{12})/.exec(this.page.url());
    if (!m) throw new Error(`not on a VM page: ${this.page.url()}`);
    return m[1]!;
  }

  async waitState(state: string, timeout = 60_000): Promise<void> {
    await expect(this.id('vm-detail')).toHaveAttribute('data-state', state, { timeout });
  }

  async tab(name: 'console' | 'serial' | 'monitor' | 'snapshots' | 'settings' | 'log'): Promise<void> {
    await this.id(`tab-${name}`).click();
  }

  async confirm(): Promise<void> {
    await this.id('confirm-yes').click();
  }

  /** Text currently shown by the serial terminal (xterm's DOM rows). */
  async serialText(): Promise<string> {
    return this.page.locator('[data-testid="serial-terminal"] .xterm-rows').innerText();
  }

  /** Types a line into the serial terminal and waits until `expected` appears. */
  async serialRun(line: string, expected: RegExp, timeout = 30_000): Promise<void> {
    await this.page.locator('[data-testid="serial-terminal"] .xterm-helper-textarea').focus();
    await this.page.keyboard.type(line);
    await this.page.keyboard.press('Enter');
    await expect.poll(() => this.serialText(), { timeout }).toMatch(expected);
  }
}
