import { basename } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { PickerPage } from './PickerPage';

export interface WizardInput {
  name: string;
  /** Chosen in the file picker, like every host file the UI uses (there is no path to type). */
  iso?: string;
  /** Direct kernel boot (with no ISO): kernel, initrd and command line. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  cpus?: string;
  memory?: string;
  diskSize?: string;
}

export class WizardPage {
  constructor(readonly page: Page) {}

  private id(testId: string) {
    return this.page.getByTestId(testId);
  }

  async next(): Promise<void> {
    await expect(this.id('wiz-next')).toBeEnabled();
    await this.id('wiz-next').click();
  }

  async step(): Promise<string | null> {
    return this.id('wiz-step').getAttribute('data-step');
  }

  /** Walks every step with the given values and stops on the review page. */
  async fill(input: WizardInput): Promise<void> {
    await expect(this.id('wizard')).toBeVisible();
    await this.id('wiz-name').fill(input.name);
    await this.id('wiz-os').selectOption('linux');
    await this.next();
    if (input.iso) {
      await this.id('wiz-media-iso').check();
      await this.chooseFile('wiz-iso', input.iso);
    } else {
      await this.id('wiz-media-none').check();
      const advanced = this.id('wiz-direct-boot');
      if (
        (input.kernel || input.cmdline) &&
        !(await advanced.evaluate((d) => (d as HTMLDetailsElement).open))
      )
        await advanced.locator('summary').click();
      if (input.kernel) await this.chooseFile('wiz-kernel', input.kernel);
      if (input.initrd) await this.chooseFile('wiz-initrd', input.initrd);
      if (input.cmdline) await this.id('wiz-cmdline').fill(input.cmdline);
    }
    await this.next();
    if (input.cpus) await this.id('wiz-cpus').fill(input.cpus);
    if (input.memory) await this.id('wiz-memory').fill(input.memory);
    await this.next();
    if (input.diskSize) await this.id('wiz-disk-size').fill(input.diskSize);
    await this.next();
    await this.next(); // firmware: the profile's default
    await this.next(); // network: NAT
    await expect(this.id('wiz-review')).toBeVisible();
  }

  /** Chooses a file through the picker window; the field then shows its name. */
  async chooseFile(field: string, file: string): Promise<void> {
    await PickerPage.pick(this.page, `${field}-choose`, file);
    await expect(this.id(`${field}-chosen`)).toContainText(basename(file));
  }

  async create(): Promise<void> {
    await this.id('wiz-create').click();
  }
}
